using System.Text;
using NetCmdlets.Core.Framing;
using Xunit;

namespace NetCmdlets.Core.Tests.Framing;

public class SwitchableFramerTests
{
    private static readonly byte[] Stream = Encoding.ASCII.GetBytes("head\nAB\nCDEtail\nlast\n");

    /// <summary>
    /// Reads <paramref name="stream"/> in the chunks given, as a connection does, and after the first
    /// message switches the framer the way a handler would; returns the messages as text.
    /// </summary>
    private static List<string> Read(SwitchableFramer framer, IEnumerable<byte[]> chunks, Action<SwitchableFramer> afterFirst)
    {
        var messages = new List<string>();
        var pending = new List<byte>();
        foreach (byte[] chunk in chunks)
        {
            pending.AddRange(chunk);
            while (pending.Count > 0)
            {
                // Padded, so the framer must honour the segment's offset.
                byte[] buffer = new byte[pending.Count + 2];
                pending.CopyTo(buffer, 2);
                if (!framer.TryRead(new ArraySegment<byte>(buffer, 2, pending.Count), out ArraySegment<byte> message, out int consumed)) break;
                messages.Add(Encoding.ASCII.GetString(message.Array!, message.Offset, message.Count));
                pending.RemoveRange(0, consumed);
                if (messages.Count == 1) afterFirst(framer);
            }
        }
        byte[] rest = pending.ToArray();
        if (framer.TryReadFinal(new ArraySegment<byte>(rest), out ArraySegment<byte> last))
            messages.Add(Encoding.ASCII.GetString(last.Array!, last.Offset, last.Count));
        return messages;
    }

    private static IEnumerable<byte[]> SplitAt(byte[] stream, int split) =>
        new[] { stream.Take(split).ToArray(), stream.Skip(split).ToArray() };

    [Fact]
    public void NextMessageOnly_CutsOneMessageThenTheConnectionsFramingReadsOn_AtEverySplit()
    {
        for (int split = 0; split <= Stream.Length; split++)
        {
            var framer = new SwitchableFramer(MessageFraming.Lines());
            List<string> messages = Read(framer, SplitAt(Stream, split), f => f.SwitchReceiving(MessageFraming.Fixed(6), nextMessageOnly: true));
            Assert.Equal(new[] { "head", "AB\nCDE", "tail", "last" }, messages);
            Assert.Equal("Line", framer.LastCutBy.Name);
        }
    }

    [Fact]
    public void NextMessageOnly_ByteByByte_AndMergedInOneRead()
    {
        var byteByByte = new SwitchableFramer(MessageFraming.Lines());
        Assert.Equal(new[] { "head", "AB\nCDE", "tail", "last" },
            Read(byteByByte, Stream.Select(b => new[] { b }), f => f.SwitchReceiving(MessageFraming.Fixed(6), nextMessageOnly: true)));
        var merged = new SwitchableFramer(MessageFraming.Lines());
        Assert.Equal(new[] { "head", "AB\nCDE", "tail", "last" },
            Read(merged, new[] { Stream }, f => f.SwitchReceiving(MessageFraming.Fixed(6), nextMessageOnly: true)));
    }

    [Fact]
    public void ForGood_TheNewFramingCutsEverythingAfter_AndSendsToo()
    {
        byte[] stream = Encoding.ASCII.GetBytes("STARTTLS\n").Concat(new byte[] { 0, 0, 0, 3, (byte)'a', (byte)'\n', (byte)'b', 0, 0, 0, 1, (byte)'c' }).ToArray();
        for (int split = 0; split <= stream.Length; split++)
        {
            var framer = new SwitchableFramer(MessageFraming.Lines());
            List<string> messages = Read(framer, SplitAt(stream, split), f => f.SwitchReceiving(MessageFraming.LengthPrefixed(), nextMessageOnly: false));
            Assert.Equal(new[] { "STARTTLS", "a\nb", "c" }, messages);
        }
        var sender = new SwitchableFramer(MessageFraming.Lines());
        Assert.Equal(Encoding.ASCII.GetBytes("x\n"), sender.Encode(new ArraySegment<byte>(new[] { (byte)'x' })));
        sender.SwitchSending(MessageFraming.LengthPrefixed());
        Assert.Equal(new byte[] { 0, 0, 0, 1, (byte)'x' }, sender.Encode(new ArraySegment<byte>(new[] { (byte)'x' })));
        Assert.Equal("LengthPrefixed", sender.Sending.Name);
    }

    [Fact]
    public void NextMessageOnly_LeavesSendingAlone()
    {
        var framer = new SwitchableFramer(MessageFraming.Lines());
        framer.SwitchReceiving(MessageFraming.Fixed(2), nextMessageOnly: true);
        Assert.Equal(Encoding.ASCII.GetBytes("xyz\n"), framer.Encode(new ArraySegment<byte>(Encoding.ASCII.GetBytes("xyz"))));
    }

    [Fact]
    public void ATruncatedMessageOfTheSwitchedFramingIsReportedAtTheEnd()
    {
        var framer = new SwitchableFramer(MessageFraming.Lines());
        FramingException error = Assert.Throws<FramingException>(() =>
            Read(framer, new[] { Encoding.ASCII.GetBytes("head\nABC") }, f => f.SwitchReceiving(MessageFraming.Fixed(6), nextMessageOnly: true)));
        Assert.Equal("FramingError.Fixed.Truncated", error.ErrorId);
    }
}

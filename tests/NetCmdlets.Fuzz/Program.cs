using System.Text;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Tls;
using SharpFuzz;

namespace NetCmdlets.Fuzz;

/// <summary>
/// One fuzz target per run, named by the first argument. Each feeds the input to the code under test as
/// the connection would: in reads whose sizes come from the input itself, so the fuzzer explores the
/// splits too. FramingException is the expected answer to bad input; any other exception, a broken
/// invariant (a message outside the input, consuming nothing or too much) or a message over the
/// maximum is a crash for AFL to keep.
/// </summary>
public static class Program
{
    private const int Max = 4096;

    private static readonly Dictionary<string, Func<IMessageFramer>> Framers = new()
    {
        ["line"] = () => MessageFraming.Lines(null, Max).CreateFramer(),
        ["line-utf16"] = () => MessageFraming.Lines(Encoding.Unicode, Max).CreateFramer(),
        ["delimiter"] = () => MessageFraming.Delimiter(Encoding.ASCII.GetBytes("\r\n.\r\n"), Max).CreateFramer(),
        ["length-prefixed"] = () => MessageFraming.LengthPrefixed(4, true, false, Max).CreateFramer(),
        ["length-prefixed-2-le-inclusive"] = () => MessageFraming.LengthPrefixed(2, false, true, Max).CreateFramer(),
        ["fixed"] = () => MessageFraming.Fixed(7).CreateFramer(),
        ["octet-counted"] = () => MessageFraming.OctetCounted(Max).CreateFramer(),
        ["json"] = () => MessageFraming.JsonLines(null, Max).CreateFramer(),
    };

    public static IEnumerable<string> Targets => Framers.Keys.Append("tls-records").Append(SelfTest);

    /// <summary>A target that crashes on inputs starting with 'X': proves that the harness reports crashes at all.</summary>
    private const string SelfTest = "self-test";

    public static int Main(string[] args)
    {
        if (args.Length != 1 || !Targets.Contains(args[0]))
        {
            Console.Error.WriteLine($"usage: NetCmdlets.Fuzz <{string.Join("|", Targets)}>   (input on stdin, as afl-fuzz gives it)");
            return 2;
        }
        string target = args[0];
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            byte[] input = memory.ToArray();
            if (target == SelfTest)
            {
                // Through instrumented code first, or AFL sees nothing to follow.
                FrameOnce(Framers["line"](), input);
                if (input.Length > 0 && input[0] == (byte)'X') throw new InvalidOperationException("the self-test's crash");
                return;
            }
            if (target == "tls-records") TlsRecordsOnce(input);
            else FrameOnce(Framers[target](), input);
        });
        return 0;
    }

    private static void TlsRecordsOnce(byte[] input)
    {
        for (int count = 0; count <= input.Length; count++)
        {
            var segment = new ArraySegment<byte>(input, 0, count);
            bool hello = TlsRecords.LooksLikeClientHello(segment);
            if (hello && !TlsRecords.LooksLikeRecord(segment)) throw new InvalidOperationException("a ClientHello that is not a record");
        }
    }

    /// <summary>The input's first byte sets the read size (1 to 64), so one input is one way of splitting.</summary>
    private static void FrameOnce(IMessageFramer framer, byte[] input)
    {
        if (input.Length == 0) return;
        int step = input[0] % 64 + 1;
        var buffer = new List<byte>();
        try
        {
            for (int at = 1; at < input.Length; at += step)
            {
                buffer.AddRange(input.Skip(at).Take(step));
                while (buffer.Count > 0)
                {
                    byte[] held = buffer.ToArray();
                    // Padded, so the framer must honour the segment's offset.
                    byte[] padded = new byte[held.Length + 3];
                    Buffer.BlockCopy(held, 0, padded, 3, held.Length);
                    var segment = new ArraySegment<byte>(padded, 3, held.Length);
                    if (!framer.TryRead(segment, out ArraySegment<byte> message, out int consumed)) break;
                    if (consumed < 1 || consumed > held.Length) throw new InvalidOperationException($"consumed {consumed} of {held.Length}");
                    if (message.Array != padded || message.Offset < 3 || message.Offset + message.Count > 3 + consumed)
                        throw new InvalidOperationException("a message outside what was consumed");
                    if (message.Count > Math.Max(framer.MaxMessageLength, 7)) throw new InvalidOperationException($"a message of {message.Count} bytes over the maximum");
                    buffer.RemoveRange(0, consumed);
                }
            }
            byte[] rest = buffer.ToArray();
            if (framer.TryReadFinal(new ArraySegment<byte>(rest), out ArraySegment<byte> last) && last.Count > Math.Max(framer.MaxMessageLength, 7))
                throw new InvalidOperationException("a last message over the maximum");
        }
        catch (FramingException)
        {
            // Bad input, refused as it should be.
        }
    }
}

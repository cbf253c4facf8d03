using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// A server whose connections talk to each other (ncat --broker, --chat): what one member sends goes to
/// all the others, framed by each one's framing. A member that does not read cannot slow the others
/// down: past its send budget queued, it is dropped with a warning. In a chat, members are named
/// &lt;user{Id}&gt;, each message forwarded carries its sender's name, and joins and leaves are announced.
/// </summary>
internal sealed class ServerBroker
{
    private readonly TcpServer _server;
    private readonly bool _chat;

    public ServerBroker(TcpServer server, bool chat)
    {
        _server = server;
        _chat = chat;
    }

    /// <summary>Bytes queued for one member past which it is dropped instead of being waited for.</summary>
    public long MemberBudget { get; set; } = TcpConnection.DefaultSendBudget;

    private static string Name(TcpConnection member) => $"<user{member.Id}>";

    /// <summary>A member joined: in a chat, it is told who is there, and the others are told it came.</summary>
    public void Joined(TcpConnection member)
    {
        if (!_chat) return;
        var present = new List<string>();
        foreach (TcpConnection other in _server.OpenConnections)
        {
            if (other != member) present.Add($"{other.RemoteEndPoint.Address} as {Name(other)}");
        }
        Send(member, Text(member, $"<announce> already connected: {(present.Count == 0 ? "nobody" : string.Join(", ", present))}."));
        Broadcast(member, Text(member, $"<announce> {member.RemoteEndPoint.Address} is connected as {Name(member)}."));
    }

    /// <summary>A member left: in a chat, the others are told.</summary>
    public void Left(TcpConnection member)
    {
        if (_chat) Broadcast(member, Text(member, $"<announce> {Name(member)} is disconnected."));
    }

    /// <summary>What <paramref name="from"/> sent (or a handler made of it) goes to every other member; in a chat, with its sender's name first.</summary>
    public void Relay(TcpConnection from, IReadOnlyList<Outgoing> items, bool toSenderToo)
    {
        IReadOnlyList<Outgoing> named = _chat ? Prefixed(from, items) : items;
        Broadcast(toSenderToo ? null : from, named);
    }

    /// <summary>Sends <paramref name="items"/> to every open member but <paramref name="except"/>.</summary>
    public void Broadcast(TcpConnection? except, IReadOnlyList<Outgoing> items)
    {
        foreach (TcpConnection member in _server.OpenConnections)
        {
            if (member != except) Send(member, items);
        }
    }

    private void Send(TcpConnection member, IReadOnlyList<Outgoing> items)
    {
        if (member.PendingSendBytes > MemberBudget)
        {
            Drop(member);
            return;
        }
        try
        {
            _ = member.SendAsync(items, CancellationToken.None);
        }
        catch (NetException)
        {
            // Closed meanwhile (or what cannot be framed for it): its own end says why.
        }
    }

    private void Drop(TcpConnection member)
    {
        if (member.State == TcpConnectionState.Closed) return;
        long queued = member.PendingSendBytes;
        member.Abort();
        _server.Post(new ServerWarning($"Dropped connection {member}: it took none of the {queued:N0} bytes queued for it (its limit is {MemberBudget:N0}), and the other members are not slowed down for it."));
    }

    private static Outgoing[] Text(TcpConnection member, string text) => new[] { Outgoing.Payload(member.Encoding.GetBytes(text)) };

    private static IReadOnlyList<Outgoing> Prefixed(TcpConnection from, IReadOnlyList<Outgoing> items)
    {
        byte[] name = from.Encoding.GetBytes(Name(from) + " ");
        var named = new Outgoing[items.Count];
        for (int i = 0; i < items.Count; i++)
        {
            byte[] bytes = items[i].Bytes;
            var joined = new byte[name.Length + bytes.Length];
            Buffer.BlockCopy(name, 0, joined, 0, name.Length);
            Buffer.BlockCopy(bytes, 0, joined, name.Length, bytes.Length);
            named[i] = items[i].IsRaw ? Outgoing.Raw(joined) : Outgoing.Payload(joined);
        }
        return named;
    }
}

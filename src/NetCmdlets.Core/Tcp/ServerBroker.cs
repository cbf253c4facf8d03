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
/// <remarks>
/// A plain broker with no handler (<see cref="RelaysOnRead"/>) forwards as each read is framed: the whole
/// messages of one read go to each member in one piece, as they came, before the consumer sees them, so
/// the pipeline does not set the pace (ncat forwards each read the same way). A chat names each message
/// and announces joins, so it relays as the consumer takes each message, in order with its announcements.
/// </remarks>
internal sealed class ServerBroker
{
    private readonly TcpServer _server;
    private readonly bool _chat;
    private readonly object _gate = new();
    // Copied on each join and leave, read without a lock by every forward.
    private volatile TcpConnection[] _members = Array.Empty<TcpConnection>();

    public ServerBroker(TcpServer server, bool chat, bool relaysOnRead)
    {
        _server = server;
        _chat = chat;
        RelaysOnRead = relaysOnRead;
    }

    /// <summary>Messages are forwarded by each connection's receive loop as they are read (<see cref="Forward"/>), not as they are taken.</summary>
    public bool RelaysOnRead { get; }

    /// <summary>A connection the server opened is a member from now on.</summary>
    public void Add(TcpConnection member)
    {
        lock (_gate)
        {
            var members = new TcpConnection[_members.Length + 1];
            _members.CopyTo(members, 0);
            members[members.Length - 1] = member;
            _members = members;
        }
    }

    /// <summary>A connection that ended is no member.</summary>
    public void Remove(TcpConnection member)
    {
        lock (_gate)
        {
            int at = Array.IndexOf(_members, member);
            if (at < 0) return;
            var members = new TcpConnection[_members.Length - 1];
            Array.Copy(_members, 0, members, 0, at);
            Array.Copy(_members, at + 1, members, at, members.Length - at);
            _members = members;
        }
    }

    /// <summary>Whole messages as <paramref name="from"/> sent them, framing and all, to every other member.</summary>
    public void Forward(TcpConnection from, ArraySegment<byte> wire)
    {
        foreach (TcpConnection member in _members)
        {
            if (member == from || member.State == TcpConnectionState.Closed) continue;
            if (member.PendingSendBytes > MemberBudget)
            {
                Drop(member);
                continue;
            }
            try
            {
                member.Sender.ForwardRaw(wire);
            }
            catch (NetException)
            {
                // Closed meanwhile: its own end says why.
            }
        }
    }

    /// <summary>Bytes queued for one member past which it is dropped instead of being waited for.</summary>
    public long MemberBudget { get; set; } = TcpConnection.DefaultSendBudget;

    private static string Name(TcpConnection member) => $"<user{member.Id}>";

    /// <summary>Where a member is: its address (as ncat shows it), or its UNIX socket end.</summary>
    private static string Peer(TcpConnection member) =>
        member.RemoteEndPoint is System.Net.IPEndPoint ip ? ip.Address.ToString() : member.PeerName;

    /// <summary>A member joined: in a chat, it is told who is there, and the others are told it came.</summary>
    public void Joined(TcpConnection member)
    {
        if (!_chat) return;
        var present = new List<string>();
        foreach (TcpConnection other in _server.OpenConnections)
        {
            if (other != member) present.Add($"{Peer(other)} as {Name(other)}");
        }
        Send(member, Text(member, $"<announce> already connected: {(present.Count == 0 ? "nobody" : string.Join(", ", present))}."));
        Broadcast(member, Text(member, $"<announce> {Peer(member)} is connected as {Name(member)}."));
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
    public void Broadcast(TcpConnection? except, IReadOnlyList<Outgoing> items) => SendToAll(_members, except, items);

    /// <summary>Sends <paramref name="items"/> to each of <paramref name="members"/> that is open, but <paramref name="except"/>.</summary>
    public void SendToAll(IReadOnlyList<TcpConnection> members, TcpConnection? except, IReadOnlyList<Outgoing> items)
    {
        foreach (TcpConnection member in members)
        {
            if (member != except && member.State != TcpConnectionState.Closed) Send(member, items);
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

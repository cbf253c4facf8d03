using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Whether a server lets a new client in, checked before a byte of it is read: the allow and deny lists
/// (-Allow, -Deny), then the connection limit (-MaxConnections). Each refusal is counted; the warnings
/// about them come once per address denied and once each time the server fills up.
/// </summary>
internal sealed class ServerAdmission
{
    private readonly ConnectionOptions _options;
    private readonly ServerStatistics _statistics;
    private readonly Action<object> _post;
    private int _saturated;
    private readonly ConcurrentDictionary<IPAddress, bool> _deniedWarned = new();

    /// <param name="post">Posts a notice (a warning) to the server's consumer.</param>
    public ServerAdmission(ConnectionOptions options, ServerStatistics statistics, Action<object> post)
    {
        _options = options;
        _statistics = statistics;
        _post = post;
    }

    /// <summary>The allow and deny lists, then -MaxConnections (connections open and <paramref name="handshakes"/> under way).</summary>
    public bool Admits(Socket client, int handshakes)
    {
        if (_options.AddressFilter is { } filter && client.RemoteEndPoint is IPEndPoint remote && !filter.Permits(remote.Address))
        {
            _statistics.AddDenied();
            IPAddress address = EndPoints.Normalize(remote).Address;
            // One warning per address (a few hundred at most): a flood from one host is one line, and counted.
            if (_deniedWarned.Count < 256 && _deniedWarned.TryAdd(address, true))
                _post(new ServerWarning($"Refused a client from {address}: the -Allow and -Deny lists do not let it in. Statistics.Denied counts such clients."));
            return false;
        }
        int max = _options.MaxConnections;
        if (max > 0 && _statistics.ConnectionsOpen + handshakes >= max)
        {
            _statistics.AddRefused();
            // One warning each time the server fills up, not one per client refused.
            if (Interlocked.Exchange(ref _saturated, 1) == 0)
                _post(new ServerWarning($"Refusing new clients: {max} connections are open (-MaxConnections). Statistics.Refused counts them."));
            return false;
        }
        // Room again, and well below the limit: the next time it fills up is worth a warning again.
        if (max > 0 && _statistics.ConnectionsOpen + handshakes < Math.Max(1, max * 9 / 10)) Volatile.Write(ref _saturated, 0);
        return true;
    }

    /// <summary>Closes a refused client at once, with a reset: it learns now, and holds nothing here.</summary>
    public static void Refuse(Socket client)
    {
        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Gone already.
        }
        client.Dispose();
    }
}

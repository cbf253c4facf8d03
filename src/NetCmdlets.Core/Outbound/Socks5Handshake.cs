using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Outbound;

/// <summary>
/// A SOCKS5 CONNECT (RFC 1928) on a stream to the proxy: the methods offered (none, and user/password
/// when a credential is given, RFC 1929), then the request for the host, as an address or as a name.
/// Reads exactly the proxy's replies, so what follows on the stream is the host's.
/// </summary>
internal static class Socks5Handshake
{
    public static async Task ConnectAsync(Stream stream, OutboundProxy proxy, string host, IPAddress? address, int port, CancellationToken cancellationToken)
    {
        NetworkCredential? credential = proxy.Credential;
        byte[] greeting = credential is null ? new byte[] { 5, 1, 0 } : new byte[] { 5, 2, 0, 2 };
        await stream.WriteAsync(greeting, 0, greeting.Length, cancellationToken).ConfigureAwait(false);
        byte[] chosen = await ReadExactAsync(stream, 2, proxy, cancellationToken).ConfigureAwait(false);
        if (chosen[0] != 5) throw NotSocks(proxy);
        switch (chosen[1])
        {
            case 0:
                break;
            case 2 when credential is not null:
                await AuthenticateAsync(stream, proxy, credential, cancellationToken).ConfigureAwait(false);
                break;
            case 0xFF:
                throw new ProxyException(ProxyFailure.AuthenticationFailed, credential is null
                    ? $"The proxy {proxy} accepts none of the methods offered: it wants a user name and password (give -ProxyCredential)."
                    : $"The proxy {proxy} accepts none of the methods offered, user and password included.");
            default:
                throw new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} chose method {chosen[1]}, which was not offered.");
        }

        byte[] request = Request(host, address, port);
        await stream.WriteAsync(request, 0, request.Length, cancellationToken).ConfigureAwait(false);
        byte[] reply = await ReadExactAsync(stream, 4, proxy, cancellationToken).ConfigureAwait(false);
        if (reply[0] != 5) throw NotSocks(proxy);
        // The bound address that follows is read whatever the outcome, so the stream is left at its end.
        int addressLength = reply[3] switch
        {
            1 => 4,
            4 => 16,
            3 => (await ReadExactAsync(stream, 1, proxy, cancellationToken).ConfigureAwait(false))[0],
            _ => -1,
        };
        if (addressLength < 0)
        {
            if (reply[1] != 0) throw Refusal(reply[1], proxy, host, port);
            throw NotSocks(proxy);
        }
        await ReadExactAsync(stream, addressLength + 2, proxy, cancellationToken).ConfigureAwait(false);
        if (reply[1] != 0) throw Refusal(reply[1], proxy, host, port);
    }

    private static async Task AuthenticateAsync(Stream stream, OutboundProxy proxy, NetworkCredential credential, CancellationToken cancellationToken)
    {
        byte[] user = Encoding.UTF8.GetBytes(credential.UserName ?? string.Empty);
        byte[] password = Encoding.UTF8.GetBytes(credential.Password ?? string.Empty);
        if (user.Length > 255 || password.Length > 255)
            throw new ProxyException(ProxyFailure.AuthenticationFailed, "A SOCKS5 user name and password are at most 255 bytes each.");
        var message = new byte[3 + user.Length + password.Length];
        message[0] = 1;
        message[1] = (byte)user.Length;
        user.CopyTo(message, 2);
        message[2 + user.Length] = (byte)password.Length;
        password.CopyTo(message, 3 + user.Length);
        await stream.WriteAsync(message, 0, message.Length, cancellationToken).ConfigureAwait(false);
        byte[] status = await ReadExactAsync(stream, 2, proxy, cancellationToken).ConfigureAwait(false);
        if (status[1] != 0)
            throw new ProxyException(ProxyFailure.AuthenticationFailed, $"The proxy {proxy} turned down the user name and password given for '{credential.UserName}'.");
    }

    private static byte[] Request(string host, IPAddress? address, int port)
    {
        byte[] target;
        byte type;
        if (address is not null)
        {
            target = address.GetAddressBytes();
            type = address.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)4 : (byte)1;
        }
        else
        {
            target = Encoding.ASCII.GetBytes(host);
            if (target.Length > 255) throw new ProxyException(ProxyFailure.Failed, $"The name '{host}' is too long for SOCKS5 (255 bytes at most).");
            type = 3;
        }
        int nameLength = type == 3 ? 1 : 0;
        var request = new byte[4 + nameLength + target.Length + 2];
        request[0] = 5;
        request[1] = 1;
        request[3] = type;
        if (type == 3) request[4] = (byte)target.Length;
        target.CopyTo(request, 4 + nameLength);
        request[request.Length - 2] = (byte)(port >> 8);
        request[request.Length - 1] = (byte)port;
        return request;
    }

    private static ProxyException Refusal(byte code, OutboundProxy proxy, string host, int port)
    {
        string target = Net.EndPoints.Format(host, port);
        return code switch
        {
            2 => new ProxyException(ProxyFailure.Refused, $"The proxy {proxy} refused the connection to {target}: its rules do not allow it."),
            3 => new ProxyException(ProxyFailure.HostUnreachable, $"The proxy {proxy} could not reach {target}: the network is unreachable from it."),
            4 => new ProxyException(ProxyFailure.HostUnreachable, $"The proxy {proxy} could not reach {target}: the host is unreachable from it, or it could not resolve the name."),
            5 => new ProxyException(ProxyFailure.ConnectionRefused, $"{target} refused the connection from the proxy {proxy}."),
            6 => new ProxyException(ProxyFailure.HostUnreachable, $"The proxy {proxy} could not reach {target} in time (TTL expired)."),
            7 => new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} does not support the CONNECT command."),
            8 => new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} does not support the address type asked for {target} (try socks5h:// or socks5://)."),
            _ => new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} could not connect to {target} (SOCKS5 reply {code}: general failure)."),
        };
    }

    private static ProxyException NotSocks(OutboundProxy proxy) =>
        new(ProxyFailure.Failed, $"{proxy} did not answer as a SOCKS5 proxy.");

    /// <summary>Exactly <paramref name="count"/> bytes; the proxy closing first is a failure of its own.</summary>
    internal static async Task<byte[]> ReadExactAsync(Stream stream, int count, OutboundProxy proxy, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int got = await stream.ReadAsync(buffer, read, count - read, cancellationToken).ConfigureAwait(false);
            if (got == 0) throw new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} closed the connection during its handshake.");
            read += got;
        }
        return buffer;
    }
}

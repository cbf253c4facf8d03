using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Core.Outbound;

/// <summary>
/// An HTTP CONNECT tunnel on a stream to the proxy: the request (with Basic credentials when given),
/// then the proxy's answer read to the blank line after its headers, byte by byte, so nothing of the
/// host's own bytes is taken; a 2xx status opens the tunnel.
/// </summary>
internal static class HttpConnectHandshake
{
    /// <summary>The longest answer header read before giving up on the proxy.</summary>
    private const int MaxHeaderBytes = 16 * 1024;

    public static async Task ConnectAsync(Stream stream, OutboundProxy proxy, string host, int port, CancellationToken cancellationToken)
    {
        string authority = Net.EndPoints.Format(host, port);
        var request = new StringBuilder();
        request.Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n");
        request.Append("Host: ").Append(authority).Append("\r\n");
        if (proxy.Credential is { } credential)
        {
            string basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}"));
            request.Append("Proxy-Authorization: Basic ").Append(basic).Append("\r\n");
        }
        request.Append("\r\n");
        byte[] bytes = Encoding.ASCII.GetBytes(request.ToString());
        await stream.WriteAsync(bytes, 0, bytes.Length, cancellationToken).ConfigureAwait(false);

        string header = await ReadHeaderAsync(stream, proxy, cancellationToken).ConfigureAwait(false);
        string statusLine = header.Split('\n')[0].TrimEnd('\r');
        string[] parts = statusLine.Split(new[] { ' ' }, 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(parts[1], out int status))
            throw new ProxyException(ProxyFailure.Failed, $"{proxy} did not answer as an HTTP proxy (its first line: '{Shorten(statusLine)}').");
        if (status is >= 200 and < 300) return;
        string said = parts.Length > 2 ? $"{status} {parts[2]}" : status.ToString();
        throw status switch
        {
            407 => new ProxyException(ProxyFailure.AuthenticationFailed, proxy.Credential is null
                ? $"The proxy {proxy} wants credentials for {authority} ({said}): give -ProxyCredential."
                : $"The proxy {proxy} turned down the credentials given for '{proxy.Credential.UserName}' ({said})."),
            401 => new ProxyException(ProxyFailure.AuthenticationFailed, $"The proxy {proxy} turned down the connection to {authority} for want of valid credentials ({said})."),
            403 => new ProxyException(ProxyFailure.Refused, $"The proxy {proxy} refused the connection to {authority}: {said}."),
            500 or 502 or 503 or 504 => new ProxyException(ProxyFailure.HostUnreachable, $"The proxy {proxy} could not reach {authority}: {said}."),
            _ => new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} did not open a tunnel to {authority}: {said}."),
        };
    }

    private static async Task<string> ReadHeaderAsync(Stream stream, OutboundProxy proxy, CancellationToken cancellationToken)
    {
        var header = new MemoryStream();
        var one = new byte[1];
        int matched = 0;
        // CR LF CR LF ends the header; a bare LF LF is taken too.
        while (true)
        {
            int got = await stream.ReadAsync(one, 0, 1, cancellationToken).ConfigureAwait(false);
            if (got == 0) throw new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} closed the connection before it answered the CONNECT.");
            header.WriteByte(one[0]);
            if (one[0] == (byte)'\n')
            {
                matched++;
                if (matched == 2) break;
            }
            else if (one[0] != (byte)'\r')
            {
                matched = 0;
            }
            if (header.Length > MaxHeaderBytes) throw new ProxyException(ProxyFailure.Failed, $"The proxy {proxy} sent more than {MaxHeaderBytes:N0} bytes of header.");
        }
        return Encoding.ASCII.GetString(header.ToArray());
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text.Substring(0, 80) + "...";
}

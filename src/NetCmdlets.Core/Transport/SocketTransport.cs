using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Transport;

/// <summary>A connected TCP socket, read and written through a <see cref="NetworkStream"/>.</summary>
public sealed class SocketTransport : ConnectionTransport
{
#if !NET8_0_OR_GREATER
    private static readonly ArraySegment<byte> s_noBytes = new(Array.Empty<byte>());
#endif

    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    /// <param name="inlineCompletions">Run continuations on the socket engine's thread (see <see cref="InlineCompletions"/>);
    /// false for a socket that will carry TLS, whose handshake continuations sign and build chains.</param>
    public SocketTransport(Socket socket, bool inlineCompletions = true)
    {
        _socket = socket ?? throw new ArgumentNullException(nameof(socket));
        // Request/reply traffic: small writes must not wait for Nagle (a UNIX socket has none).
        if (socket.AddressFamily != System.Net.Sockets.AddressFamily.Unix) _socket.NoDelay = true;
        // Read before the stream exists: a socket reset in the accept backlog throws here, inside the caller's try.
        RemoteEndPoint = EndPoints.NormalizeAny(socket.RemoteEndPoint);
        LocalEndPoint = EndPoints.NormalizeAny(socket.LocalEndPoint);
        _stream = new NetworkStream(socket, ownsSocket: true);
        if (inlineCompletions) InlineCompletions.Prefer(socket);
    }


    public override Stream Stream => _stream;

    /// <summary>Before TLS is laid over it (STARTTLS): its continuations go back to the thread pool.</summary>
    internal void StopInlineCompletions() => InlineCompletions.Stop(_socket);

    private Net.UnixPeerCredential? _peer;
    private bool _peerRead;

    public override Net.UnixPeerCredential? PeerCredential
    {
        get
        {
            if (!_peerRead)
            {
                _peer = Net.UnixPeerCredential.Of(_socket);
                _peerRead = true;
            }
            return _peer;
        }
    }

    public override EndPoint LocalEndPoint { get; }

    public override EndPoint RemoteEndPoint { get; }

    public override bool CanWaitForData => true;

    // A zero-byte receive completes when data or the end arrives, without pinning a buffer meanwhile.
#if NET8_0_OR_GREATER
    public override ValueTask<int> WaitForDataAsync() => _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
#else
    public override Task<int> WaitForDataAsync() => _socket.ReceiveAsync(s_noBytes, SocketFlags.None);
#endif

    public override void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset or closed: there is no sending side left to end.
        }
    }

    private volatile bool _reset;

    // Without a shutdown first: the kernel resets the connection if input is still unread.
    // (The stream shuts the socket down before closing it, so a reset asked for closes the socket itself.)
    public override void Abort()
    {
        if (_reset) _socket.Dispose();
        else _stream.Dispose();
    }

    public override void ResetOnAbort()
    {
        try
        {
            // A linger time of zero: closing sends RST instead of FIN.
            _socket.LingerState = new LingerOption(true, 0);
            _reset = true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Gone already: nothing left to reset.
        }
    }

    public override void Close()
    {
        try
        {
            // Shutdown sends FIN after the queued bytes; without it a close may reset a connection with unread input.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset by the peer: nothing left to say.
        }
        _stream.Dispose();
    }
}

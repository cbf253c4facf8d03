using System;
using System.IO;
using System.Net.Sockets;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Core.Tcp;

/// <summary>
/// Binds a server's UNIX domain socket: a socket file (a stale one, that nothing listens on, replaced; a
/// live one, or a file that is no socket, left alone and refused), or a Linux abstract name, which has
/// no file. The file takes the mode asked for, and is removed when the server stops.
/// </summary>
internal static class UnixListener
{
    /// <exception cref="NetException">AddressInUse: a server listens on it already, or the path is another kind of file; other bind errors.</exception>
    /// <param name="type">Stream (a server's connections), or Dgram (datagrams, as syslog's /dev/log).</param>
    public static Socket Bind(UnixEndPoint endPoint, int? mode, SocketType type = SocketType.Stream)
    {
        string shown = endPoint.ToString();
        // First, so a build without UNIX sockets says so before anything is touched.
        System.Net.EndPoint bindTo = endPoint.ToSocketEndPoint();
        if (!endPoint.IsAbstract && File.Exists(endPoint.Path)) ClearStale(endPoint, shown, type);
        var socket = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        try
        {
            socket.Bind(bindTo);
#if NET8_0_OR_GREATER
            if (mode is { } bits && !endPoint.IsAbstract && !OperatingSystem.IsWindows()) File.SetUnixFileMode(endPoint.Path, (UnixFileMode)bits);
#endif
            if (type == SocketType.Stream) socket.Listen((int)SocketOptionName.MaxConnections);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw NetException.FromSocket(e, shown, "Binding the UNIX socket");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new NetException(NetErrorKind.SocketError, shown, $"Could not set the mode of {shown}: {e.Message}", e);
        }
    }

    /// <summary>The socket file goes with its server (an abstract name goes by itself).</summary>
    public static void Remove(UnixEndPoint endPoint)
    {
        if (endPoint.IsAbstract) return;
        try
        {
            File.Delete(endPoint.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Removed or replaced meanwhile: not ours to worry about.
        }
    }

    private static void ClearStale(UnixEndPoint endPoint, string shown, SocketType type)
    {
        // A regular file opens; a socket file does not (ENXIO): only a socket file is ever replaced.
        try
        {
            using (File.OpenRead(endPoint.Path))
            {
            }
            throw new NetException(NetErrorKind.AddressInUse, shown, $"{endPoint.Path} is a file, not a UNIX socket: it is left alone. Choose another path.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        // A connect (for datagrams too: it fails the same way on a socket nobody has) tells a live one from a stale one.
        using var probe = new Socket(AddressFamily.Unix, type, ProtocolType.Unspecified);
        try
        {
            probe.Connect(endPoint.ToSocketEndPoint());
        }
        catch (SocketException)
        {
            // Nobody answers: the file of a server that is gone. It is replaced.
            File.Delete(endPoint.Path);
            return;
        }
        throw new NetException(NetErrorKind.AddressInUse, shown, $"A server already listens on {shown}.");
    }
}

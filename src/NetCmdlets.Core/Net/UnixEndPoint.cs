using System;
using System.Net;
using System.Net.Sockets;

namespace NetCmdlets.Core.Net;

/// <summary>
/// One end of a UNIX domain socket connection, as connections and messages show it: the socket file's
/// path, a Linux abstract name written with a leading @, or unnamed (a client's own end, which binds no
/// name). Sockets are bound and connected with the runtime's UnixDomainSocketEndPoint (see <see cref="ToSocketEndPoint"/>).
/// </summary>
public sealed class UnixEndPoint : EndPoint, IEquatable<UnixEndPoint>
{
    public UnixEndPoint(string? path) => Path = path ?? string.Empty;

    /// <summary>The path, or @name for an abstract name; empty for an unnamed end.</summary>
    public string Path { get; }

    /// <summary>A Linux abstract name (no file): written with a leading @, as ss and socat show them.</summary>
    public bool IsAbstract => Path.StartsWith("@", StringComparison.Ordinal);

    public bool IsUnnamed => Path.Length == 0;

    public override AddressFamily AddressFamily => AddressFamily.Unix;

    /// <summary>"unix:/run/app.sock", "unix:@name", or "unix:(unnamed)".</summary>
    public override string ToString() => IsUnnamed ? "unix:(unnamed)" : $"unix:{Path}";

    public bool Equals(UnixEndPoint? other) => other is not null && string.Equals(Path, other.Path, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is UnixEndPoint other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path);

    /// <summary>The endpoint a socket binds or connects to: an abstract name starts with a NUL byte.</summary>
    /// <exception cref="NetException">UnixSocketNotSupported: the netstandard2.0 build (Windows PowerShell) has no UNIX sockets.</exception>
    public EndPoint ToSocketEndPoint()
    {
#if NET8_0_OR_GREATER
        if (IsUnnamed) throw new ArgumentException("An unnamed UNIX socket end cannot be bound or connected to.");
        return new UnixDomainSocketEndPoint(IsAbstract ? "\0" + Path.Substring(1) : Path);
#else
        throw new NetException(NetErrorKind.UnixSocketNotSupported, ToString(), $"{this}: UNIX domain sockets need PowerShell 7; this build of NetCmdlets (for Windows PowerShell) has none.");
#endif
    }

    /// <summary>What a socket reports for one end of a UNIX connection, as this type; null for any other endpoint.</summary>
    internal static UnixEndPoint? From(EndPoint? endPoint)
    {
        if (endPoint is null || endPoint.AddressFamily != AddressFamily.Unix) return null;
        if (endPoint is UnixEndPoint unix) return unix;
        // UnixDomainSocketEndPoint shows an abstract name with its NUL as @ (and an unnamed end as empty).
        string path = endPoint.ToString() ?? string.Empty;
        if (path.StartsWith("\0", StringComparison.Ordinal)) path = "@" + path.Substring(1);
        return new UnixEndPoint(path);
    }
}

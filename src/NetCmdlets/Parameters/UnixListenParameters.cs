using System;
using System.Management.Automation;
using NetCmdlets.Core.Net;

namespace NetCmdlets.Parameters;

/// <summary>A server (or proxy) that listens on a UNIX domain socket instead of a port.</summary>
internal sealed class UnixListenParameters
{
    /// <summary>Listens on a UNIX domain socket instead of a port: a path (a stale socket file is replaced, and the file is removed when the server stops), or a Linux abstract name with a leading @.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? UnixSocket { get; set; }

    /// <summary>With -UnixSocket: the socket file's permissions, in octal as chmod takes them ('660', '0600').</summary>
    [Parameter]
    [ValidatePattern("^0?[0-7]{3}$")]
    public string? UnixSocketMode { get; set; }

    /// <summary>The socket asked for (a relative path made full from <paramref name="cmdlet"/>'s location), or null for a port.</summary>
    public UnixEndPoint? Resolve(PSCmdlet cmdlet) =>
        UnixSocket is null ? null : new UnixEndPoint(FullPath(cmdlet, UnixSocket));

    /// <summary>The permission bits given, or null.</summary>
    public int? Mode => UnixSocketMode is null ? null : Convert.ToInt32(UnixSocketMode, 8);

    /// <summary>A path as a full one (a job's runspace has another location); an abstract name as it is.</summary>
    public static string FullPath(PSCmdlet cmdlet, string path) =>
        path.StartsWith("@", StringComparison.Ordinal) ? path : cmdlet.GetUnresolvedProviderPathFromPSPath(path);
}

using System;
using System.Management.Automation;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Parameters;

/// <summary>Who a TCP listener lets in, how many at once, and how long a silent connection may stay.</summary>
internal sealed class ServerLimitParameters
{
    /// <summary>Close a connection on which nothing moved for this long (no byte either way, no message being handled), in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 2147483)]
    public double IdleTimeoutSec { get; set; }

    /// <summary>Refuse new clients while this many connections are open; each refusal is counted in Statistics.Refused.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>Only clients from these addresses or CIDR ranges are let in; checked before any byte is read.</summary>
    [Parameter]
    public string[]? Allow { get; set; }

    /// <summary>Clients from these addresses or CIDR ranges are refused, even when -Allow lets them in.</summary>
    [Parameter]
    public string[]? Deny { get; set; }

    /// <summary>Sets these limits on <paramref name="options"/>; a range that cannot be read ends <paramref name="cmdlet"/> with InvalidAddressRange.</summary>
    public void Apply(PSCmdlet cmdlet, ConnectionOptions options)
    {
        if (IdleTimeoutSec > 0) options.IdleTimeout = TimeSpan.FromSeconds(IdleTimeoutSec);
        options.MaxConnections = MaxConnections;
        if (Allow is null && Deny is null) return;
        try
        {
            options.AddressFilter = new AddressFilter(Allow, Deny);
        }
        catch (FormatException e)
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(e, "InvalidAddressRange", ErrorCategory.InvalidArgument, Allow ?? Deny));
        }
    }
}

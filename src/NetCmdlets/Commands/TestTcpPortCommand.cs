using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets.Commands;

/// <summary>
/// Tests many hosts and ports at once on the async core, bounded by -ThrottleLimit, and emits one result
/// per target as it arrives; -Quiet gives booleans in the order the targets were given.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "TcpPort")]
[OutputType(typeof(TcpPortResult), typeof(bool))]
public sealed class TestTcpPortCommand : NetCmdletBase
{
    private readonly List<(string Host, int Port)> _targets = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("CN", "Host", "HostName")]
    public string[] ComputerName { get; set; } = null!;

    /// <summary>Ports to test: a list or a range (1..1024).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int[] Port { get; set; } = null!;

    /// <summary>How long to wait for each connection, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double TimeoutSec { get; set; } = 2;

    /// <summary>Tests in flight at once.</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int ThrottleLimit { get; set; } = 500;

    /// <summary>Emit only $true or $false for each target, in the order given.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>On an open port, read what the service says first (SSH, SMTP, FTP) within -TimeoutSec.</summary>
    [Parameter]
    public SwitchParameter ReadBanner { get; set; }

    protected override void ProcessRecord()
    {
        foreach (string host in ComputerName)
        {
            foreach (int port in Port) _targets.Add((host, port));
        }
    }

    protected override void EndProcessing()
    {
        if (_targets.Count == 0) return;
        TimeSpan timeout = TimeSpan.FromSeconds(TimeoutSec);
        var results = new BlockingCollection<(int Index, TcpPortResult Result)>();
        var names = new ConcurrentDictionary<string, Task<IPAddress[]?>>(StringComparer.OrdinalIgnoreCase);
        using var slots = new SemaphoreSlim(ThrottleLimit);
        // Each target on the thread pool; only the pipeline thread writes what they found.
        Task all = Task.WhenAll(_targets.Select((target, index) => RunAsync(index, target.Host, target.Port)));
        _ = all.ContinueWith(_ => results.CompleteAdding(), TaskScheduler.Default);

        async Task RunAsync(int index, string host, int port)
        {
            await slots.WaitAsync(StopToken).ConfigureAwait(false);
            try
            {
                IPAddress[]? addresses = await names.GetOrAdd(host, ResolveAsync).ConfigureAwait(false);
                results.Add((index, await ProbeAsync(host, port, addresses, timeout).ConfigureAwait(false)));
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
            finally
            {
                slots.Release();
            }
        }

        var quiet = Quiet ? new bool?[_targets.Count] : null;
        int done = 0;
        bool progress = _targets.Count > 100;
        foreach ((int index, TcpPortResult result) in Arriving(results))
        {
            done++;
            if (quiet is not null) quiet[index] = result.Open;
            else WriteObject(result);
            if (progress && (done % 100 == 0 || done == _targets.Count))
            {
                WriteProgress(new ProgressRecord(1, "Testing TCP ports", $"{done} of {_targets.Count} tested")
                {
                    PercentComplete = done * 100 / _targets.Count,
                    RecordType = done == _targets.Count ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                });
            }
        }
        if (quiet is not null)
        {
            foreach (bool? open in quiet) WriteObject(open == true);
        }
    }

    /// <summary>Results as they arrive; a stop ends the wait as PowerShell expects.</summary>
    private IEnumerable<(int Index, TcpPortResult Result)> Arriving(BlockingCollection<(int Index, TcpPortResult Result)> results)
    {
        using IEnumerator<(int Index, TcpPortResult Result)> items = results.GetConsumingEnumerable(StopToken).GetEnumerator();
        while (UntilStopped(items.MoveNext)) yield return items.Current;
    }

    private async Task<IPAddress[]?> ResolveAsync(string host)
    {
        try
        {
            return await EndPoints.ResolveAsync(host, StopToken).ConfigureAwait(false);
        }
        catch (NetException)
        {
            return null;
        }
    }

    /// <summary>Each address of the name in turn, until one is open; otherwise what the first said.</summary>
    private async Task<TcpPortResult> ProbeAsync(string host, int port, IPAddress[]? addresses, TimeSpan timeout)
    {
        if (addresses is null) return new TcpPortResult(host, null, port, TcpPortStatus.NameNotResolved, null, null);
        TcpPortResult? first = null;
        foreach (IPAddress address in addresses)
        {
            var (status, latency, banner) = await TcpProbe.ProbeAsync(address, port, timeout, ReadBanner ? timeout : null, StopToken).ConfigureAwait(false);
            var result = new TcpPortResult(host, address, port, status, latency, banner);
            if (status == TcpPortStatus.Open) return result;
            first ??= result;
        }
        return first!;
    }
}

/// <summary>One target of Test-TcpPort.</summary>
public sealed class TcpPortResult
{
    internal TcpPortResult(string computerName, IPAddress? address, int port, TcpPortStatus status, TimeSpan? latency, string? banner)
    {
        ComputerName = computerName;
        RemoteAddress = address?.ToString();
        Port = port;
        Status = status;
        Latency = latency;
        Banner = banner;
    }

    public string ComputerName { get; }

    /// <summary>The address tested (the one that answered, for a name with several).</summary>
    public string? RemoteAddress { get; }

    public int Port { get; }

    public bool Open => Status == TcpPortStatus.Open;

    public TcpPortStatus Status { get; }

    /// <summary>How long the connection took, or how long it waited before giving up.</summary>
    public TimeSpan? Latency { get; }

    /// <summary>With -ReadBanner: what the service said first.</summary>
    public string? Banner { get; }

    public override string ToString() => $"{ComputerName}:{Port} {Status}";
}

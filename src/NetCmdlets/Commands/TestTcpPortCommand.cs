using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Outbound;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>
/// Tests many hosts and ports at once on the async core, bounded by -ThrottleLimit, and emits one result
/// per target as it arrives; -Quiet gives booleans in the order the targets were given.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "TcpPort", DefaultParameterSetName = HostSet)]
[OutputType(typeof(TcpPortResult), typeof(bool))]
[UsesParameters(typeof(ProxyParameters), HostSet)]
public sealed partial class TestTcpPortCommand : NetCmdletBase
{
    private const string HostSet = "ComputerName";
    private const string UnixSet = "UnixSocket";

    private readonly List<(string Host, int Port)> _targets = new();

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [Alias("CN", "Host", "HostName")]
    public string[] ComputerName { get; set; } = null!;

    /// <summary>Ports to test: a list or a range (1..1024).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = HostSet)]
    [ValidateRange(1, 65535)]
    public int[] Port { get; set; } = null!;

    /// <summary>UNIX domain sockets to test instead of hosts and ports: paths, or Linux abstract names with a leading @.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = UnixSet)]
    [ValidateNotNullOrEmpty]
    public string[] UnixSocket { get; set; } = null!;

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
        if (ParameterSetName == UnixSet)
        {
            // Port 0 marks a UNIX socket among the targets.
            foreach (string path in UnixSocket) _targets.Add((path.StartsWith("@", StringComparison.Ordinal) ? path : GetUnresolvedProviderPathFromPSPath(path), 0));
            return;
        }
        foreach (string host in ComputerName)
        {
            foreach (int port in Port) _targets.Add((host, port));
        }
    }

    protected override void EndProcessing()
    {
        if (_targets.Count == 0) return;
        TimeSpan timeout = TimeSpan.FromSeconds(TimeoutSec);
        OutboundProxy? proxy = ProxyParameters.Resolve(this);
        var results = new Arrivals<Arrival>();
        var names = new ConcurrentDictionary<string, Task<IPAddress[]?>>(StringComparer.OrdinalIgnoreCase);
        // -ThrottleLimit workers on the thread pool, each taking the next target until none is left; only
        // the pipeline thread writes what they found. Most connects on a local network end at once, so a
        // worker runs through many targets without waiting.
        int next = -1;
        // Ends the workers, and closes the connects in flight, however this method is left: Ctrl+C, or a
        // later command that has what it needs (Select-Object -First) before every target is tested.
        using var finished = CancellationTokenSource.CreateLinkedTokenSource(StopToken);
        CancellationToken ending = finished.Token;
        using var deadlines = new ConnectDeadlines(timeout, ending);
        Task all = Task.WhenAll(Enumerable.Range(0, Math.Min(ThrottleLimit, _targets.Count)).Select(_ => Task.Run(WorkAsync)));
        _ = all.ContinueWith(_ => results.Complete(), TaskScheduler.Default);
        try
        {
            Emit(results);
        }
        finally
        {
            finished.Cancel();
        }

        async Task WorkAsync()
        {
            try
            {
                int index;
                while ((index = Interlocked.Increment(ref next)) < _targets.Count)
                {
                    ending.ThrowIfCancellationRequested();
                    (string host, int port) = _targets[index];
                    if (port == 0)
                    {
                        results.Add(await ProbeUnixAsync(index, host, timeout, ending).ConfigureAwait(false));
                        continue;
                    }
                    if (proxy is not null)
                    {
                        results.Add(await ProbeThroughAsync(index, host, port, proxy, timeout, ending).ConfigureAwait(false));
                        continue;
                    }
                    IPAddress[]? addresses = await names.GetOrAdd(host, ResolveAsync).ConfigureAwait(false);
                    results.Add(await ProbeAsync(index, host, port, addresses, timeout, deadlines, ending).ConfigureAwait(false));
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }
    }

    /// <summary>Writes the results as they arrive (with -Quiet, booleans in the order given once all are in).</summary>
    private void Emit(Arrivals<Arrival> results)
    {
        var quiet = Quiet ? new bool?[_targets.Count] : null;
        int done = 0;
        bool progress = _targets.Count > 100;
        foreach ((int index, TcpPortResult result, NetException? failure) in Arriving(results))
        {
            done++;
            if (failure is not null) WriteNetError(failure);
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
    private IEnumerable<T> Arriving<T>(Arrivals<T> results)
    {
        var batch = new List<T>();
        while (UntilStopped(() => results.TakeAll(batch, StopToken)))
        {
            foreach (T item in batch) yield return item;
            batch.Clear();
        }
    }

    /// <summary>
    /// What the workers found, for the pipeline thread, taken in batches: a port scan finds tens of
    /// thousands of results a second, and waking the pipeline thread for each cost more than the probes
    /// (a third of a 10,000-port scan on loopback). The waiting side is woken once per batch, and lets a
    /// millisecond's worth gather first.
    /// </summary>
    private sealed class Arrivals<T>
    {
        private readonly ConcurrentQueue<T> _items = new();
        private readonly SemaphoreSlim _signal = new(0);
        private int _signalled;
        private volatile bool _completed;

        public void Add(T item)
        {
            _items.Enqueue(item);
            if (Interlocked.Exchange(ref _signalled, 1) == 0) _signal.Release();
        }

        public void Complete()
        {
            _completed = true;
            if (Interlocked.Exchange(ref _signalled, 1) == 0) _signal.Release();
        }

        /// <summary>Waits for items and moves all there are into <paramref name="batch"/>; false once all are taken and no more will come.</summary>
        public bool TakeAll(List<T> batch, CancellationToken cancellationToken)
        {
            while (true)
            {
                bool completed = _completed;
                while (_items.TryDequeue(out T? item)) batch.Add(item);
                if (batch.Count > 0) return true;
                if (completed) return false;
                _signal.Wait(cancellationToken);
                Volatile.Write(ref _signalled, 0);
                if (!_completed) Thread.Sleep(1);
            }
        }
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
    /// <remarks>A socket the system will not make or connect at all (no descriptors or ports left) is Unreachable, with the error.</remarks>
    private async Task<Arrival> ProbeAsync(int index, string host, int port, IPAddress[]? addresses, TimeSpan timeout, ConnectDeadlines deadlines, CancellationToken cancellationToken)
    {
        if (addresses is null) return new Arrival(index, new TcpPortResult(host, null, port, TcpPortStatus.NameNotResolved, null, null), null);
        TcpPortResult? first = null;
        foreach (IPAddress address in addresses)
        {
            TcpPortResult result;
            try
            {
                var (status, latency, banner) = await TcpProbe.ProbeAsync(address, port, timeout, ReadBanner ? timeout : null, deadlines, cancellationToken).ConfigureAwait(false);
                result = new TcpPortResult(host, address, port, status, latency, banner);
            }
            catch (System.Net.Sockets.SocketException e)
            {
                return new Arrival(index, new TcpPortResult(host, address, port, TcpPortStatus.Unreachable, null, null),
                    NetException.FromSocket(e, EndPoints.Format(address.ToString(), port), "Testing"));
            }
            if (result.Status == TcpPortStatus.Open) return new Arrival(index, result, null);
            first ??= result;
        }
        return new Arrival(index, first!, null);
    }

    /// <summary>
    /// One target through a proxy, which resolves the name (socks5h, http) and connects: its answer is the
    /// result. The proxy's own failures (unreachable, credentials, its rules) are Unreachable with the error.
    /// </summary>
    private Task<Arrival> ProbeThroughAsync(int index, string host, int port, OutboundProxy proxy, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProbeByConnectingAsync(index, host, port, () => TcpConnector.ConnectAsync(host, port, new ConnectionOptions { Proxy = proxy }, timeout, cancellationToken), timeout, cancellationToken);

    /// <summary>One UNIX socket: Open, Refused (a socket file nobody listens on), NameNotResolved (no such socket), TimedOut.</summary>
    private Task<Arrival> ProbeUnixAsync(int index, string path, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProbeByConnectingAsync(index, path, 0, () => TcpConnector.ConnectUnixAsync(path, null, timeout, cancellationToken), timeout, cancellationToken);

    /// <summary>
    /// A target tested by a whole connection (through a proxy, or to a UNIX socket): Open once it connects,
    /// with its banner if asked for; otherwise what the failure says. A failure that is not the target's
    /// (the proxy's own, say) is Unreachable, with the error.
    /// </summary>
    private async Task<Arrival> ProbeByConnectingAsync(int index, string host, int port, Func<Task<TcpConnection>> connect, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TcpConnection connection;
        try
        {
            connection = await connect().ConfigureAwait(false);
        }
        catch (NetException e)
        {
            TcpPortStatus status = e.Kind switch
            {
                NetErrorKind.ConnectionRefused => TcpPortStatus.Refused,
                NetErrorKind.ConnectTimeout => TcpPortStatus.TimedOut,
                // No such name, or no socket file at that path.
                NetErrorKind.NameNotResolved or NetErrorKind.AddressNotAvailable => TcpPortStatus.NameNotResolved,
                _ => TcpPortStatus.Unreachable,
            };
            bool theTargets = status != TcpPortStatus.Unreachable || e.InnerException is ProxyException { Failure: ProxyFailure.HostUnreachable };
            return new Arrival(index, new TcpPortResult(host, null, port, status, null, null), theTargets ? null : e);
        }
        TimeSpan latency = clock.Elapsed;
        try
        {
            string? banner = ReadBanner ? await TcpProbe.ReadBannerAsync(connection.Transport.Stream, timeout, cancellationToken).ConfigureAwait(false) : null;
            return new Arrival(index, new TcpPortResult(host, null, port, TcpPortStatus.Open, latency, banner), null);
        }
        finally
        {
            connection.Abort();
        }
    }

    /// <summary>What a worker found for the target at <paramref name="Index"/>, and the error to write with it, if any.</summary>
    private readonly struct Arrival
    {
        public Arrival(int index, TcpPortResult result, NetException? failure)
        {
            Index = index;
            Result = result;
            Failure = failure;
        }

        public int Index { get; }

        public TcpPortResult Result { get; }

        public NetException? Failure { get; }

        public void Deconstruct(out int index, out TcpPortResult result, out NetException? failure) => (index, result, failure) = (Index, Result, Failure);
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

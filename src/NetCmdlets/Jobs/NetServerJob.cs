using System;
using System.Collections;
using System.ComponentModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Threading;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Handlers;

namespace NetCmdlets.Jobs;

/// <summary>
/// A server running in a runspace of its own, in the session's job table. Its output is the received
/// messages; <see cref="Statistics"/> reads the live figures of the server inside.
/// </summary>
public sealed class NetServerJob : Job2
{
    private const string Script = @"
param($__command, $__parameters, $__handlerText, $__using, $__arguments, $__scripts)
$__netcmdlets_server_job = $true
foreach ($__entry in $__using.GetEnumerator()) { Set-Variable -Name $__entry.Key -Value $__entry.Value }
if ($__handlerText) { $__parameters['Handler'] = [scriptblock]::Create($__handlerText) }
foreach ($__entry in $__scripts.GetEnumerator()) { $__parameters[$__entry.Key] = [scriptblock]::Create($__entry.Value) }
if ($__arguments) { $__parameters['ArgumentList'] = $__arguments }
& $__command @__parameters -InformationAction Continue";

    /// <summary>Received messages a job keeps for Receive-Job unless told otherwise: a server nobody reads must not grow without end.</summary>
    public const int DefaultOutputLimit = 100000;

    private readonly ManualResetEventSlim _listening = new(false);
    private readonly PSDataCollection<PSObject> _received = new();
    private readonly int _outputLimit;
    private long _droppedOutput;
    private Runspace? _runspace;
    private PowerShell? _powerShell;

    internal NetServerJob(string command, string? name, int outputLimit = DefaultOutputLimit)
        : base(command, name)
    {
        _outputLimit = outputLimit;
        _received.DataAdded += OnReceived;
        PSJobTypeName = "NetServerJob";
        // As for other jobs: `$job.Output | ...` on a running job returns what is there instead of
        // blocking until the server ends.
        Output.EnumeratorNeverBlocks = true;
        Error.EnumeratorNeverBlocks = true;
        Warning.EnumeratorNeverBlocks = true;
        Verbose.EnumeratorNeverBlocks = true;
        Debug.EnumeratorNeverBlocks = true;
        Information.EnumeratorNeverBlocks = true;
        Progress.EnumeratorNeverBlocks = true;
    }

    public string? Protocol { get; private set; }

    /// <summary>An IPEndPoint, or for a server on a UNIX socket its unix:/path.</summary>
    public EndPoint? LocalEndPoint { get; private set; }

    /// <summary>The path (or @name) of the UNIX socket the server listens on; null for one on a port.</summary>
    public string? UnixSocket => (LocalEndPoint as Core.Net.UnixEndPoint)?.Path;

    public int Port => (LocalEndPoint as IPEndPoint)?.Port ?? 0;

    /// <summary>Live: connections open and in all, messages and bytes each way, errors, dropped datagrams.</summary>
    public ServerStatistics? Statistics { get; private set; }

    /// <summary>Messages received while the job's output already held its limit (-JobOutputLimit), so not kept.</summary>
    public long DroppedOutput => Interlocked.Read(ref _droppedOutput);

    private ListenerStarted? _started;

    /// <summary>The server the job runs, once it listens.</summary>
    internal Core.NetServer? Server => _started?.Server;

    /// <summary>The server's TCP connections open now (none for UDP): Send-TcpMessage -Connection pushes to them from this session.</summary>
    public System.Collections.Generic.IReadOnlyList<TcpConnection> Connections => _started?.Connections ?? System.Array.Empty<TcpConnection>();

    public override string StatusMessage => LocalEndPoint is null ? string.Empty : $"{Protocol} {LocalEndPoint}";

    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Debug.Count > 0 || Information.Count > 0;

    public override string Location => LocalEndPoint?.ToString() ?? "localhost";

    /// <summary>Starts the server command in a new runspace with the module loaded.</summary>
    internal void Begin(string modulePath, string commandName, Hashtable parameters, PortableHandler? handler, Hashtable scripts, Hashtable usingValues, object[] arguments)
    {
        InitialSessionState sessionState = InitialSessionState.CreateDefault2();
        sessionState.ImportPSModule(new[] { modulePath });
        _runspace = RunspaceFactory.CreateRunspace(sessionState);
        _runspace.Open();
        _powerShell = PowerShell.Create();
        _powerShell.Runspace = _runspace;
        _powerShell.AddScript(Script)
            .AddArgument(commandName)
            .AddArgument(parameters)
            .AddArgument(handler?.Text)
            .AddArgument(usingValues)
            .AddArgument(arguments)
            .AddArgument(scripts);
        _powerShell.Streams.Error = Error;
        _powerShell.Streams.Warning = Warning;
        _powerShell.Streams.Verbose = Verbose;
        _powerShell.Streams.Debug = Debug;
        _powerShell.Streams.Progress = Progress;
        _powerShell.Streams.Information = Information;
        Information.DataAdded += OnInformation;
        _powerShell.InvocationStateChanged += OnInvocationStateChanged;
        SetJobState(JobState.Running);
        _powerShell.BeginInvoke<PSObject, PSObject>(null, _received);
    }

    /// <summary>Waits until the server listens (true) or the job ends or the time runs out (false).</summary>
    internal bool WaitUntilListening(TimeSpan timeout, CancellationToken cancellationToken)
    {
        int signalled = WaitHandle.WaitAny(new[] { _listening.WaitHandle, Finished, cancellationToken.WaitHandle }, timeout);
        cancellationToken.ThrowIfCancellationRequested();
        return signalled == 0;
    }

    public override void StartJob() => throw new InvalidOperationException("The job starts when it is created.");

    public override void StartJobAsync() => StartJob();

    public override void StopJob()
    {
        if (_powerShell is not null && !IsFinishedState(JobStateInfo.State)) _powerShell.Stop();
    }

    public override void StopJob(bool force, string reason) => StopJob();

    /// <remarks>Stop-Job calls this and waits for StopJobCompleted.</remarks>
    public override void StopJobAsync()
    {
        if (_powerShell is null || IsFinishedState(JobStateInfo.State))
        {
            OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, null));
            return;
        }
        _powerShell.BeginStop(stopped =>
        {
            Exception? error = null;
            try
            {
                _powerShell.EndStop(stopped);
            }
            catch (Exception e)
            {
                error = e;
            }
            OnStopJobCompleted(new AsyncCompletedEventArgs(error, false, null));
        }, null);
    }

    public override void StopJobAsync(bool force, string reason) => StopJobAsync();

    public override void SuspendJob() => throw new NotSupportedException("A server job cannot be suspended; stop it instead.");

    public override void SuspendJobAsync() => SuspendJob();

    public override void SuspendJob(bool force, string reason) => SuspendJob();

    public override void SuspendJobAsync(bool force, string reason) => SuspendJob();

    public override void ResumeJob() => throw new NotSupportedException("A server job cannot be suspended or resumed.");

    public override void ResumeJobAsync() => ResumeJob();

    public override void UnblockJob() => throw new NotSupportedException("A server job is never blocked.");

    public override void UnblockJobAsync() => UnblockJob();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!IsFinishedState(JobStateInfo.State)) StopJob();
            _powerShell?.Dispose();
            _runspace?.Dispose();
            _listening.Dispose();
        }
        base.Dispose(disposing);
    }

    private static bool IsFinishedState(JobState state) =>
        state is JobState.Completed or JobState.Failed or JobState.Stopped;

    // On the job's pipeline thread, once per message: keep it if there is room, else count it.
    private void OnReceived(object? sender, DataAddedEventArgs e)
    {
        foreach (PSObject item in _received.ReadAll())
        {
            if (Output.Count < _outputLimit)
            {
                Output.Add(item);
                continue;
            }
            if (Interlocked.Increment(ref _droppedOutput) == 1 && _outputLimit > 0)
            {
                Warning.Add(new WarningRecord($"The job holds {_outputLimit} received messages that Receive-Job has not taken; " +
                    "newer ones are not kept (the DroppedOutput property counts them). Receive them more often, or raise -JobOutputLimit."));
            }
        }
    }

    private void OnInformation(object? sender, DataAddedEventArgs e)
    {
        if (LocalEndPoint is not null) return;
        if (Information[e.Index].MessageData is ListenerStarted started)
        {
            Protocol = started.Protocol;
            Statistics = started.Statistics;
            _started = started;
            LocalEndPoint = started.LocalEndPoint;
            _listening.Set();
        }
    }

    private void OnInvocationStateChanged(object? sender, PSInvocationStateChangedEventArgs e)
    {
        JobState? state = e.InvocationStateInfo.State switch
        {
            PSInvocationState.Completed => JobState.Completed,
            PSInvocationState.Failed => JobState.Failed,
            PSInvocationState.Stopped => JobState.Stopped,
            _ => null,
        };
        if (state is null) return;
        if (state == JobState.Failed && e.InvocationStateInfo.Reason is { } reason)
            Error.Add(reason is IContainsErrorRecord withRecord ? withRecord.ErrorRecord : new ErrorRecord(reason, "ServerJobFailed", ErrorCategory.NotSpecified, null));
        SetJobState(state.Value);
        // The runspace's own thread raised this event: dispose it from elsewhere.
        ThreadPool.QueueUserWorkItem(_ => _runspace?.Dispose());
    }
}

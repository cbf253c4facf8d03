using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using NetCmdlets.Core.Proxy.Faults;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;
using NetCmdlets.Core.Transport;

namespace NetCmdlets.Core.Proxy;

/// <summary>
/// One proxied connection: the client's side and the server's, read by a <see cref="RelayReceiveLoop"/>
/// each. A clean end of one direction is passed on as a half-close (FIN) of the other side, a reset as a
/// reset; once both directions have ended, its close is recorded.
/// </summary>
internal sealed class ProxyPair
{
    private readonly object _gate = new();
    private readonly Observer? _toServerObserver;
    private readonly Observer? _toClientObserver;
    private int _ended;
    private NetException? _error;
    private readonly Dictionary<(TcpFault, bool), FaultRun> _runs = new();
    private volatile string? _endedByFault;

    public ProxyPair(TcpProxy proxy, TcpConnection client, TcpConnection upstream, MessageFraming? observed)
    {
        Proxy = proxy;
        Client = client;
        Upstream = upstream;
        Id = client.Id;
        if (observed is not null)
        {
            _toServerObserver = new Observer(this, true, observed.CreateFramer(), observed.Name == "Raw");
            _toClientObserver = new Observer(this, false, observed.CreateFramer(), observed.Name == "Raw");
        }
    }

    public TcpProxy Proxy { get; }

    public TcpConnection Client { get; }

    public TcpConnection Upstream { get; }

    public int Id { get; }

    public void Start(bool consumerForwards)
    {
        if (consumerForwards)
        {
            Client.FramesInTurn = true;
            Upstream.FramesInTurn = true;
        }
        Proxy.Post(new TcpProxyConnection(this, TcpProxyEvent.Opened, null));
        _ = new RelayReceiveLoop(this, toServer: true, Client, Upstream, consumerForwards).RunAsync();
        _ = new RelayReceiveLoop(this, toServer: false, Upstream, Client, consumerForwards).RunAsync();
    }

    /// <summary>What passed one way, shown as traffic messages when the proxy observes; completes when the proxy's queue took them.</summary>
    public Task Observe(bool toServer, ArraySegment<byte> chunk) =>
        (toServer ? _toServerObserver : _toClientObserver)?.AddAsync(chunk) ?? Task.CompletedTask;

    /// <summary>Forwards what one side sent to the other, through the proxy's faults that act on it; completes once the loop may read on.</summary>
    public Task Forward(bool toServer, ArraySegment<byte> chunk)
    {
        TcpFault[] faults = Proxy.Faults;
        if (faults.Length == 0)
        {
            (toServer ? Upstream : Client).Sender.ForwardRaw(chunk);
            return Task.CompletedTask;
        }
        return Apply(faults, 0, toServer, chunk);
    }

    private Task Apply(TcpFault[] faults, int index, bool toServer, ArraySegment<byte> chunk)
    {
        while (index < faults.Length && !faults[index].ActsOn(toServer)) index++;
        if (index == faults.Length)
        {
            if (_endedByFault is null) (toServer ? Upstream : Client).Sender.ForwardRaw(chunk);
            return Task.CompletedTask;
        }
        FaultRun run = RunOf(faults[index], toServer);
        // A fault that ended what it acts on swallows the rest.
        if (run.Stopped) return Task.CompletedTask;
        if (!run.Active) return Apply(faults, index + 1, toServer, chunk);
        int following = index + 1;
        return faults[index].ApplyAsync(run, chunk, piece => Apply(faults, following, toServer, piece));
    }

    private FaultRun RunOf(TcpFault fault, bool toServer)
    {
        lock (_runs)
        {
            if (!_runs.TryGetValue((fault, toServer), out FaultRun? run))
                _runs[(fault, toServer)] = run = new FaultRun(this, toServer, fault.Probability >= 1 || FaultRandom.Next() < fault.Probability);
            return run;
        }
    }

    /// <summary>Completes once what was forwarded one way has been written (or that side has closed).</summary>
    public async Task Flush(bool toServer)
    {
        try
        {
            await (toServer ? Upstream : Client).FlushAsync().ConfigureAwait(false);
        }
        catch (NetException)
        {
            // Closed meanwhile: nothing is left to wait for.
        }
    }

    /// <summary>A fault ends the connection, both sides: with a reset, or with a clean close.</summary>
    public void EndByFault(bool reset, string why)
    {
        _endedByFault ??= why;
        foreach (TcpConnection side in new[] { Client, Upstream })
        {
            if (reset)
            {
                side.Transport.ResetOnAbort();
                side.Abort();
            }
            else
            {
                side.Close();
            }
        }
    }

    /// <summary>What a fault did to end the connection, for its closing record.</summary>
    public string? EndedByFault => _endedByFault;

    /// <summary>One direction's reading ended: cleanly (its peer sent FIN) or with <paramref name="error"/>.</summary>
    public void DirectionEnded(bool toServer, NetException? error)
    {
        if (error is null && _endedByFault is null && FaultsKeepBytes(toServer, out TcpFault[] faults))
        {
            _ = EndFaultsThenDirection(faults, toServer);
            return;
        }
        EndDirection(toServer, error);
    }

    private bool FaultsKeepBytes(bool toServer, out TcpFault[] faults)
    {
        faults = Proxy.Faults;
        foreach (TcpFault fault in faults)
            if (fault.ActsOn(toServer) && fault.HasPending(RunOf(fault, toServer))) return true;
        return false;
    }

    /// <summary>What faults kept back (an unfinished last message) goes on through the rest of the chain before the end does.</summary>
    private async Task EndFaultsThenDirection(TcpFault[] faults, bool toServer)
    {
        NetException? error = null;
        try
        {
            for (int index = 0; index < faults.Length; index++)
            {
                if (!faults[index].ActsOn(toServer)) continue;
                FaultRun run = RunOf(faults[index], toServer);
                if (run.Stopped || !run.Active) continue;
                int following = index + 1;
                await faults[index].EndAsync(run, piece => Apply(faults, following, toServer, piece)).ConfigureAwait(false);
            }
        }
        catch (NetException e)
        {
            error = e;
        }
        EndDirection(toServer, error);
    }

    private void EndDirection(bool toServer, NetException? error)
    {
        TcpConnection destination = toServer ? Upstream : Client;
        if (error is null)
        {
            (toServer ? _toServerObserver : _toClientObserver)?.Flush();
            // The peer finished sending: the other side hears so once what was forwarded is written.
            destination.CloseSend();
        }
        else
        {
            // A reset (or a broken rule) ends both sides, and the other side's peer learns of it as a reset.
            destination.Transport.ResetOnAbort();
            destination.Abort();
        }
        bool last;
        lock (_gate)
        {
            _error ??= error;
            last = ++_ended == 2;
        }
        if (!last) return;
        // Both read to their end: after a clean end both sides close once what is queued is written.
        if (_error is not null)
        {
            Client.Abort();
            Upstream.Abort();
        }
        Proxy.Closed(this, _error);
    }

    /// <summary>Cuts what passed one way into messages of the observed framing, for the proxy's consumer.</summary>
    private sealed class Observer
    {
        private readonly ProxyPair _pair;
        private readonly bool _toServer;
        private readonly IMessageFramer _framer;
        private readonly bool _raw;
        private readonly UnframedBytes _kept = new();

        public Observer(ProxyPair pair, bool toServer, IMessageFramer framer, bool raw)
        {
            _pair = pair;
            _toServer = toServer;
            _framer = framer;
            _raw = raw;
        }

        private TcpConnection Source => _toServer ? _pair.Client : _pair.Upstream;

        public async Task AddAsync(ArraySegment<byte> chunk)
        {
            if (_raw)
            {
                await _pair.Proxy.ShowAsync(Make(chunk)).ConfigureAwait(false);
                return;
            }
            _kept.Append(chunk);
            while (_kept.Any && _framer.TryRead(_kept.Kept, out ArraySegment<byte> message, out int consumed))
            {
                TcpTraffic traffic = Make(message);
                _kept.Consume(consumed);
                await _pair.Proxy.ShowAsync(traffic).ConfigureAwait(false);
            }
        }

        /// <summary>The end of this direction: what is left of an unfinished message is one more (a last line without its line feed).</summary>
        public void Flush()
        {
            if (_raw || !_kept.Any) return;
            if (_framer.TryReadFinal(_kept.Kept, out ArraySegment<byte> last))
                _pair.Proxy.ShowLast(Make(last));
            _kept.Clear();
        }

        private TcpTraffic Make(ArraySegment<byte> payload) => new(payload.ToBytes(), Source.Encoding, _pair, _toServer, leased: false);
    }
}

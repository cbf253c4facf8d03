using System;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

/// <summary>
/// Subcommands used by bench/Invoke-Benchmark.ps1. Each prints one JSON object on stdout when it
/// is done (servers print their port on the first line instead) and exits non-zero on bad usage.
/// </summary>
public static class Program
{
    private const string Usage = @"usage: NetCmdlets.Bench <command> [options]
  echo-client  --host 127.0.0.1 --port P [--connections 1] [--seconds 5] [--warmup 1] [--size 64]
               [--inline-completions 1] [--framing line|lp|json] [--unix PATH (a UNIX socket instead of --port)]
  blocking-echo-client  the same options as echo-client: a blocking thread per connection instead
  echo-server  [--port 0]                       prints the port, runs until stdin closes
  tuned-echo-server [--port 0]                  the same, tuned, with inline socket completions
  idle-clients --port P [--count 10000] [--concurrency 256] [--hold-seconds 0 (until stdin closes)]
               [--sources 1 (127.0.0.1 to 127.0.0.N as source addresses, past one address's ports)]
  udp-send     --port P [--count 200000] [--size 64]
  udp-receive  [--port 0] [--count 200000] [--timeout-sec 10]   prints the port, then the JSON
  udp-echo-server [--port 0]                    prints the port, echoes each datagram until stdin closes
  udp-echo-client --port P [--senders 1] [--seconds 5] [--warmup 1] [--size 64] [--timeout-sec 1]
  tcp-listeners   [--count 20] [--first-port 1] [--last-port 10000]   prints the ports, holds them until stdin closes
  tls-echo-server     --cert server.pfx [--password p] [--port 0]   SslStream line echo; prints the port
  tls-echo-client     --port P [--connections 50] [--seconds 5] [--warmup 1] [--size 64]
  tls-handshake-client --port P [--connections 50] [--seconds 5] [--warmup 1]
  latency-client  --port P [--count 100] [--warmup 5] [--size 64]   one connection: median round trip, ms
  broker-client   --port P [--connections 20] [--count 20000] [--size 64] [--window 1000] [--timeout-sec 60]
                  one member sends, the others read every line: lines delivered per second";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        Options options;
        try
        {
            options = Options.Parse(args, 1);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        switch (args[0])
        {
            case "echo-client":
                UseInlineCompletions(options.Int("inline-completions", 1) == 1);
                return await EchoClient.RunAsync(options).ConfigureAwait(false);
            case "blocking-echo-client":
                return await BlockingEchoClient.RunAsync(options).ConfigureAwait(false);
            case "echo-server":
                return await EchoServer.RunAsync(options).ConfigureAwait(false);
            case "tuned-echo-server":
                UseInlineCompletions(true);
                return await TunedEchoServer.RunAsync(options).ConfigureAwait(false);
            case "idle-clients":
                return await IdleClients.RunAsync(options).ConfigureAwait(false);
            case "tls-echo-server":
                return await TlsBench.ServerAsync(options).ConfigureAwait(false);
            case "tls-echo-client":
                return await TlsBench.EchoClientAsync(options).ConfigureAwait(false);
            case "tls-handshake-client":
                return await TlsBench.HandshakeClientAsync(options).ConfigureAwait(false);
            case "udp-send":
                return UdpSend.Run(options);
            case "udp-receive":
                return UdpReceive.Run(options);
            case "udp-echo-server":
                return await UdpEcho.ServerAsync(options).ConfigureAwait(false);
            case "udp-echo-client":
                UseInlineCompletions(options.Int("inline-completions", 1) == 1);
                return await UdpEcho.ClientAsync(options).ConfigureAwait(false);
            case "latency-client":
                return await LatencyClient.RunAsync(options).ConfigureAwait(false);
            case "broker-client":
                return await BrokerClient.RunAsync(options).ConfigureAwait(false);
            case "tcp-listeners":
                return await TcpListeners.RunAsync(options).ConfigureAwait(false);
            default:
                Console.Error.WriteLine($"unknown command '{args[0]}'");
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }

    /// <summary>
    /// Runs socket continuations on the epoll thread instead of handing each to the thread pool: the
    /// client then works like one event loop and spends about half the CPU per round trip, which on a
    /// small machine is CPU the measured server gets. Read once, when the first socket operation
    /// starts, so it must be set before any socket is used.
    /// </summary>
    private static void UseInlineCompletions(bool inline)
    {
        const string Name = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(Name) is null) Environment.SetEnvironmentVariable(Name, inline ? "1" : "0");
    }
}

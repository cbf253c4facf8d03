using System.Management.Automation;
using System.Text;
using NetCmdlets.Core;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Udp;
using NetCmdlets.Parameters;

namespace NetCmdlets.Commands;

/// <summary>Sends each message, or each byte array, as one UDP datagram.</summary>
[Cmdlet(VerbsCommunications.Send, "UdpDatagram", DefaultParameterSetName = TextSet)]
[OutputType(typeof(UdpDatagram))]
[UsesParameters(typeof(EncodingParameters), TextSet, UnixTextSet)]
public sealed partial class SendUdpDatagramCommand : NetCmdletBase
{
    private const string TextSet = "Text";
    private const string BytesSet = "Bytes";
    private const string UnixTextSet = "UnixSocket";
    private const string UnixBytesSet = "UnixSocketBytes";

    private UdpSender? _sender;
    private bool _failed;

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TextSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = BytesSet)]
    [Alias("CN", "Host", "HostName")]
    public string ComputerName { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = TextSet)]
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = BytesSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; }

    /// <summary>A UNIX datagram socket to send to instead of a host and port: a path (syslog's /dev/log), or a Linux abstract name with a leading @.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UnixTextSet)]
    [Parameter(Mandatory = true, ParameterSetName = UnixBytesSet)]
    [ValidateNotNullOrEmpty]
    public string UnixSocket { get; set; } = null!;

    [Parameter(Mandatory = true, Position = 2, ValueFromPipeline = true, ParameterSetName = TextSet)]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = UnixTextSet)]
    [AllowEmptyString]
    public string[] Message { get; set; } = null!;

    /// <summary>The exact bytes of one datagram: a piped byte array (,$bytes), or the Data property of piped objects, so received datagrams can be forwarded.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = BytesSet)]
    [Parameter(Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = UnixBytesSet)]
    public byte[] Data { get; set; } = null!;

    [Parameter]
    public SwitchParameter Broadcast { get; set; }

    /// <summary>Hops each datagram may take: the IP time to live, or a group's hop limit (the system's default for groups is 1).</summary>
    [Parameter]
    [ValidateRange(1, 255)]
    [Alias("Ttl", "HopLimit")]
    public int TimeToLive { get; set; }

    /// <summary>To a multicast group: members on this host get no copy (by default they do).</summary>
    [Parameter]
    public SwitchParameter NoMulticastLoopback { get; set; }

    /// <summary>To a multicast group: the interface to send out of, by name (eth0), index or one of its addresses.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(InterfaceCompleter))]
    public string? Interface { get; set; }

    /// <summary>After each datagram, wait for the reply (-Count of them) on the same socket and emit it.</summary>
    [Parameter]
    public SwitchParameter Receive { get; set; }

    /// <summary>With -Receive: how many reply datagrams to wait for after each datagram sent.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; } = 1;

    /// <summary>With -Receive: how long to wait for each reply datagram, in seconds.</summary>
    [Parameter]
    [ValidateRange(0.001, 2147483)]
    public double TimeoutSec { get; set; } = 5;

    /// <summary>Emit an object for each datagram sent.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (_failed) return;
        if (_sender is null)
        {
            try
            {
                var options = new UdpSendOptions
                {
                    Broadcast = Broadcast,
                    TimeToLive = TimeToLive > 0 ? TimeToLive : null,
                    MulticastLoopback = !NoMulticastLoopback,
                    Interface = string.IsNullOrWhiteSpace(Interface) ? null : MulticastInterface.Resolve(Interface!),
                };
                _sender = ParameterSetName is UnixTextSet or UnixBytesSet
                    ? UdpSender.OpenUnix(UnixListenParameters.FullPath(this, UnixSocket))
                    : UntilStopped(() => UdpSender.Open(ComputerName, Port, options, StopToken));
                if (Receive) _sender.ExpectReplies();
            }
            catch (NetException e)
            {
                _failed = true;
                WriteNetError(e);
                return;
            }
        }
        if (ParameterSetName is BytesSet or UnixBytesSet)
        {
            Send(_sender, Data);
            return;
        }
        foreach (string text in Message)
        {
            if (!Send(_sender, Encoding.GetBytes(text))) return;
        }
    }

    protected override void ReleaseResources() => _sender?.Dispose();

    private bool Send(UdpSender sender, byte[] data)
    {
        try
        {
            sender.Send(data);
        }
        catch (NetException e)
        {
            WriteNetError(e);
            return false;
        }
        if (PassThru) WriteObject(new UdpDatagram(data, Encoding, sender.RemoteEndPoint, sender.LocalEndPoint, MessageDirection.Sent));
        return !Receive || ReceiveReplies(sender);
    }

    /// <returns>False when the destination refused (nothing listens): the rest has nowhere to go.</returns>
    private bool ReceiveReplies(UdpSender sender)
    {
        for (int i = 0; i < Count; i++)
        {
            (byte[] Data, System.Net.EndPoint From)? reply;
            try
            {
                reply = UntilStopped(() => sender.ReceiveAsync(System.TimeSpan.FromSeconds(TimeoutSec), StopToken).GetAwaiter().GetResult());
            }
            catch (NetException e)
            {
                _failed = true;
                WriteNetError(e);
                return false;
            }
            if (reply is null)
            {
                // UDP loses datagrams: a missing reply is an error for this one, and the next is sent.
                WriteNetError(new NetException(NetErrorKind.ReceiveTimeout, $"{sender.RemoteEndPoint}",
                    $"No reply datagram from {sender.RemoteEndPoint} within {TimeoutSec} s."));
                return true;
            }
            WriteObject(new UdpDatagram(reply.Value.Data, Encoding, reply.Value.From, sender.LocalEndPoint, MessageDirection.Received));
        }
        return true;
    }
}

using System;
using System.Management.Automation;
using NetCmdlets.Core.Messages;

namespace NetCmdlets;

/// <summary>
/// The members NetCmdlets.psm1 adds to messages in PowerShell (type data): a hidden Connection, so
/// `$_.Connection` and pipeline binding work while ConvertTo-Json and Export-Csv leave it out, and a
/// Data whose text form is hex, so Export-Csv writes the bytes instead of "System.Byte[]".
/// </summary>
public static class MessageMembers
{
    public static object? GetConnection(PSObject message) => (message.BaseObject as TcpMessage)?.GetConnection();

    /// <summary>The peer's TLS certificate (a client's, with mutual TLS) of the message's connection; null over plain TCP.</summary>
    public static object? GetRemoteCertificate(PSObject message) => (message.BaseObject as TcpMessage)?.GetConnection().RemoteCertificate;

    /// <summary>Over a UNIX socket: the process, user and group at the other end of the message's connection; null over TCP.</summary>
    public static object? GetPeerCredential(PSObject message) => (message.BaseObject as TcpMessage)?.GetConnection().PeerCredential;

    /// <summary>What ended a received line (LF, CRLF, None, CR); null under other framings.</summary>
    public static object? GetLineEnding(PSObject message) => (message.BaseObject as TcpMessage)?.GetLineEnding();

    /// <summary>The message's bytes (they act as a byte[] everywhere), shown as hex when made text.</summary>
    public static object? GetData(PSObject message)
    {
        if (message.BaseObject is not NetMessage netMessage) return null;
        var data = new PSObject(netMessage.Data);
        data.Methods.Add(new PSCodeMethod("ToString", typeof(MessageMembers).GetMethod(nameof(DataToString))!));
        return data;
    }

    public static string DataToString(PSObject data) =>
        data.BaseObject is byte[] bytes ? BitConverter.ToString(bytes).Replace("-", string.Empty) : data.BaseObject.ToString() ?? string.Empty;
}

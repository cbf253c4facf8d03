using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Text.RegularExpressions;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets;

/// <summary>
/// When a reply that spans several messages is complete: after a count, at the first message that
/// matches -Until (a regular expression or a script block, the match included), or once the peer has
/// been quiet for -IdleSec. Messages that arrive after are not lost: they stay on the connection.
/// </summary>
internal sealed class ReplyCondition
{
    private readonly Regex? _pattern;
    private readonly ScriptBlock? _test;

    private ReplyCondition(int count, object? until, double idleSec)
    {
        Count = count;
        IdleSec = idleSec;
        switch (until is PSObject wrapped ? wrapped.BaseObject : until)
        {
            case null:
                break;
            case ScriptBlock test:
                _test = test;
                break;
            case Regex regex:
                _pattern = regex;
                break;
            case string text:
                // As PowerShell's -match: case does not matter.
                _pattern = new Regex(text, RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
                break;
            default:
                throw new ArgumentException("-Until takes a regular expression (a string) or a script block.");
        }
    }

    public int Count { get; }

    public double IdleSec { get; }

    public bool HasUntil => _pattern is not null || _test is not null;

    /// <exception cref="ArgumentException">-Until is neither a regular expression nor a script block.</exception>
    public static ReplyCondition From(int count, object? until, double idleSec) => new(count, until, idleSec);

    /// <summary>Every message until the peer closes; the close is the normal end (-UntilClosed, the replies to a file).</summary>
    public static IEnumerable<object> ReadToEnd(TcpConnection connection, NetCmdletBase cmdlet, TimeSpan timeout) =>
        new ReplyCondition(1, null, 0).Read(connection, cmdlet, timeout, countGiven: false);

    /// <summary>
    /// Reads the messages of one reply: until <see cref="Count"/> (when <paramref name="countGiven"/>), the
    /// -Until match, or -IdleSec of quiet, whichever comes first.
    /// </summary>
    /// <exception cref="NetException">ReceiveTimeout; ConnectionClosed when the peer closes before a count or
    /// match it was asked for; the connection's errors; Framing for a JSON line that is not JSON.</exception>
    /// <returns>What to emit for each message: the message, or the value of a JSON line (none for a line holding null).</returns>
    public IEnumerable<object> Read(TcpConnection connection, NetCmdletBase cmdlet, TimeSpan timeout, bool countGiven)
    {
        TimeSpan idle = IdleSec > 0 ? TimeSpan.FromSeconds(IdleSec) : timeout;
        for (int received = 0; !countGiven || received < Count; received++)
        {
            // The first message may take the whole -TimeoutSec; -IdleSec is the quiet between messages.
            TimeSpan wait = received == 0 ? timeout : idle;
            TcpMessage? message;
            try
            {
                message = cmdlet.UntilStopped(() => connection.Receive(wait, cmdlet.StopToken));
            }
            catch (NetException e) when (e.Kind == NetErrorKind.ReceiveTimeout && IdleSec > 0 && received > 0)
            {
                // Quiet for -IdleSec: the reply is complete.
                yield break;
            }
            if (message is null)
            {
                if (!countGiven && !HasUntil) yield break;
                throw new NetException(NetErrorKind.ConnectionClosed, connection.PeerName,
                    $"{connection.RemoteEndPoint} closed connection {connection.Id} after {received}{(countGiven ? $" of {Count}" : string.Empty)} message(s){(HasUntil ? ", before one matched -Until" : string.Empty)}.");
            }
            object? output = JsonValues.PresentOrFail(message);
            if (output is null)
            {
                // A JSON line holding null, or nothing, carries no value: it is not emitted, nor counted (as on a server).
                received--;
                continue;
            }
            yield return output;
            if (Matches(message, output)) yield break;
        }
    }

    /// <param name="output">What is emitted for the message, which a script block sees as $_.</param>
    private bool Matches(TcpMessage message, object? output)
    {
        if (_pattern is not null) return _pattern.IsMatch(message.Text);
        if (_test is null) return false;
        var variables = new List<PSVariable> { new("_", output), new("PSItem", output) };
        foreach (PSObject result in _test.InvokeWithContext(null, variables))
        {
            if (LanguagePrimitives.IsTrue(result)) return true;
        }
        return false;
    }
}

using System;
using NetCmdlets.Core.Messages;

namespace NetCmdlets.Handlers;

/// <summary>Runs the user's -Handler for each received message and sends its output back as replies.</summary>
internal interface IHandlerRunner : IDisposable
{
    /// <summary>Called on the pipeline thread for each message, in the order they arrived.</summary>
    /// <param name="input">The handler's $_: the message, or the value a JSON line carries.</param>
    void Dispatch(NetMessage message, object input);

    /// <summary>Waits until every dispatched message has been handled and its replies queued.</summary>
    /// <exception cref="System.OperationCanceledException">The token was cancelled (a time limit passed).</exception>
    void Drain(System.Threading.CancellationToken cancellationToken);

    /// <summary>From any thread, when a time limit passes: stops handlers that are running, so the server ends now.</summary>
    void Interrupt();
}

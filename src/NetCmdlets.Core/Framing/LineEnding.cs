namespace NetCmdlets.Core.Framing;

/// <summary>
/// What ended a received line: with it a line's exact bytes are its Data followed by this ending, so
/// every byte the peer sent can be had back from the messages, a CR before the LF included.
/// </summary>
public enum LineEnding
{
    /// <summary>Nothing: the last line, cut by the end of the stream.</summary>
    None,

    LF,

    CRLF,

    /// <summary>A CR with no LF after it, at the end of the stream: dropped from the line's Data, as a CR before an LF is.</summary>
    CR,
}

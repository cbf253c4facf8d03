using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace NetCmdlets.Bench;

internal static class Output
{
    /// <summary>One JSON object on one line: the benchmark script parses the last line of stdout.</summary>
    public static void Json(IReadOnlyDictionary<string, object?> values)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(values));
        Console.Out.Flush();
    }

    public static void Line(string text)
    {
        Console.Out.WriteLine(text);
        Console.Out.Flush();
    }

    /// <summary>Completes when stdin reaches its end: the parent closed it or died.</summary>
    public static Task StdinClosedAsync(CancellationToken cancellationToken) => Task.Run(async () =>
    {
        using var stdin = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (await stdin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
        {
        }
    }, cancellationToken);
}

using System.Threading.Tasks;

namespace NetCmdlets.Core;

/// <summary>The blocking face of the async API: waits for a task and rethrows its own exception, not an AggregateException.</summary>
internal static class Sync
{
    public static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    public static void Run(Task task) => task.GetAwaiter().GetResult();
}

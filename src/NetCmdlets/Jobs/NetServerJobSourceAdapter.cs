using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace NetCmdlets.Jobs;

/// <summary>
/// Makes server jobs known to PowerShell's job manager, which Receive-Job -AutoRemoveJob and
/// Remove-Job go through; a job added to the job table alone cannot be removed that way.
/// </summary>
public sealed class NetServerJobSourceAdapter : JobSourceAdapter
{
    private static readonly ConcurrentDictionary<Guid, Job2> s_jobs = new();

    public NetServerJobSourceAdapter() => Name = nameof(NetServerJobSourceAdapter);

    /// <summary>Registers <paramref name="job"/> through the job manager of <paramref name="cmdlet"/>'s session.</summary>
    internal static void Register(NetServerJob job, PSCmdlet cmdlet)
    {
        var definition = new JobDefinition(typeof(NetServerJobSourceAdapter), job.Command, job.Name);
        var parameters = new Dictionary<string, object> { ["NewJob"] = job };
        cmdlet.JobManager.NewJob(new JobInvocationInfo(definition, parameters));
    }

    public override Job2 NewJob(JobInvocationInfo specification)
    {
        var job = (NetServerJob)specification.Parameters[0][0].Value;
        s_jobs[job.InstanceId] = job;
        return job;
    }

    public override IList<Job2> GetJobs() => s_jobs.Values.ToList();

    public override IList<Job2> GetJobsByName(string name, bool recurse) =>
        s_jobs.Values.Where(j => string.Equals(j.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();

    public override IList<Job2> GetJobsByCommand(string command, bool recurse) =>
        s_jobs.Values.Where(j => string.Equals(j.Command, command, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <remarks>
    /// A job removed a moment ago is still found here (only here): Receive-Job -AutoRemoveJob -Wait can ask
    /// the job manager to remove the same job twice, once as it ends and once when the command ends, and
    /// the job manager reports a job it cannot find as an error of the user's command.
    /// </remarks>
    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) =>
        s_jobs.TryGetValue(instanceId, out Job2? job) ? job : RecentlyRemoved(instanceId);

    public override Job2? GetJobBySessionId(int id, bool recurse) => s_jobs.Values.FirstOrDefault(j => j.Id == id);

    public override IList<Job2> GetJobsByState(JobState state, bool recurse) =>
        s_jobs.Values.Where(j => j.JobStateInfo.State == state).ToList();

    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) =>
        throw new PSNotSupportedException("Server jobs cannot be filtered this way.");

    public override void RemoveJob(Job2 job)
    {
        if (!s_jobs.TryRemove(job.InstanceId, out Job2? removed)) return;
        lock (s_removed)
        {
            s_removed.Enqueue(removed);
            // A few are enough: a second removal comes within the same Receive-Job.
            if (s_removed.Count > 64) s_removed.Dequeue();
        }
        removed.StopJob();
    }

    private static readonly Queue<Job2> s_removed = new();

    private static Job2? RecentlyRemoved(Guid instanceId)
    {
        lock (s_removed) return s_removed.FirstOrDefault(j => j.InstanceId == instanceId);
    }
}

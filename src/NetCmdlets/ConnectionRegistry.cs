using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using NetCmdlets.Core.Tcp;

namespace NetCmdlets;

/// <summary>
/// The client connections opened by New-TcpConnection, per runspace: Get-TcpConnection lists them,
/// and they are closed when their runspace closes or the module is removed.
/// </summary>
public sealed class ConnectionRegistry : IModuleAssemblyCleanup
{
    private static readonly ConcurrentDictionary<Guid, ConcurrentDictionary<int, TcpConnection>> s_byRunspace = new();

    public static void Add(TcpConnection connection)
    {
        Runspace runspace = Runspace.DefaultRunspace;
        ConcurrentDictionary<int, TcpConnection> connections = s_byRunspace.GetOrAdd(runspace.InstanceId, _ =>
        {
            runspace.StateChanged += OnRunspaceStateChanged;
            return new ConcurrentDictionary<int, TcpConnection>();
        });
        connections[connection.Id] = connection;
    }

    public static void Remove(TcpConnection connection)
    {
        if (s_byRunspace.TryGetValue(Runspace.DefaultRunspace.InstanceId, out var connections))
            connections.TryRemove(connection.Id, out _);
    }

    /// <summary>The open connections of this runspace, by Id; those the peer has closed are dropped on the way.</summary>
    public static IReadOnlyList<TcpConnection> Open()
    {
        if (!s_byRunspace.TryGetValue(Runspace.DefaultRunspace.InstanceId, out var connections)) return Array.Empty<TcpConnection>();
        foreach (TcpConnection closed in connections.Values.Where(c => c.State == TcpConnectionState.Closed).ToList())
            connections.TryRemove(closed.Id, out _);
        return connections.Values.OrderBy(c => c.Id).ToList();
    }

    /// <summary>Called by PowerShell on Remove-Module.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => CloseAll(Runspace.DefaultRunspace.InstanceId);

    private static void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
    {
        if (sender is Runspace runspace && e.RunspaceStateInfo.State is RunspaceState.Closing or RunspaceState.Closed or RunspaceState.Broken)
            CloseAll(runspace.InstanceId);
    }

    private static void CloseAll(Guid runspaceId)
    {
        if (!s_byRunspace.TryRemove(runspaceId, out var connections)) return;
        // Gracefully, as Close-TcpConnection does: the peer sees an end, not a reset.
        foreach (TcpConnection connection in connections.Values) connection.Close(TimeSpan.FromSeconds(2));
    }
}

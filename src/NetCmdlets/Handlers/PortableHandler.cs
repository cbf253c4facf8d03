using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace NetCmdlets.Handlers;

/// <summary>
/// A handler made ready to run in another runspace (a job, a parallel worker): its text, with each
/// <c>$using:name</c> replaced by a variable whose value was read in the caller's scope at start.
/// </summary>
internal sealed class PortableHandler
{
    private const string UsingPrefix = "__using_";

    private PortableHandler(string text, Hashtable usingValues, object[] arguments)
    {
        Text = text;
        UsingValues = usingValues;
        Arguments = arguments;
    }

    /// <summary>The handler's body, to be made a script block in the runspace that runs it.</summary>
    public string Text { get; }

    /// <summary>Variable name to value; the runspace defines them before the handler runs.</summary>
    public Hashtable UsingValues { get; }

    public object[] Arguments { get; }

    public static PortableHandler From(ScriptBlock handler, object[] arguments, PSCmdlet caller)
    {
        Ast body = handler.Ast;
        string text = body.Extent.Text;
        int origin = body.Extent.StartOffset;
        var values = new Hashtable(System.StringComparer.OrdinalIgnoreCase);
        // Replace from the end so the offsets of earlier ones stay valid.
        IEnumerable<VariableExpressionAst> usings = body.FindAll(a => a is UsingExpressionAst, searchNestedScriptBlocks: true)
            .Cast<UsingExpressionAst>()
            .Select(UsingExpressionAst.ExtractUsingVariable)
            .OrderByDescending(v => v.Extent.StartOffset);
        foreach (VariableExpressionAst variable in usings)
        {
            string name = variable.VariablePath.UserPath;
            values[UsingPrefix + name] = caller.SessionState.PSVariable.GetValue(name);
            int at = variable.Extent.StartOffset - origin;
            text = text.Substring(0, at) + "$" + UsingPrefix + name + text.Substring(at + variable.Extent.Text.Length);
        }
        // A handler that already went through this once (a job's handler, made parallel inside the job)
        // refers to the substituted variables: carry their values on as well.
        foreach (VariableExpressionAst carried in body.FindAll(a => a is VariableExpressionAst v && v.VariablePath.UserPath.StartsWith(UsingPrefix, System.StringComparison.OrdinalIgnoreCase), true).Cast<VariableExpressionAst>())
        {
            string name = carried.VariablePath.UserPath;
            if (!values.ContainsKey(name)) values[name] = caller.SessionState.PSVariable.GetValue(name);
        }
        // A script block literal's extent includes its braces; the new runspace wants the body.
        if (body.Parent is ScriptBlockExpressionAst && text.StartsWith("{") && text.EndsWith("}"))
            text = text.Substring(1, text.Length - 2);
        return new PortableHandler(text, values, arguments);
    }
}

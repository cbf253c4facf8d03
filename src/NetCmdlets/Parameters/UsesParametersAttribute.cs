using System;

namespace NetCmdlets.Parameters;

/// <summary>
/// The cmdlet takes the parameters of a group (a class of them, such as <see cref="FramingParameters"/>), in
/// the parameter sets named, or in all of them when none is. NetCmdlets.Generators writes them into the
/// cmdlet, which must be partial, and stores their values in an instance of the group, a property of the
/// cmdlet named after the group's type: each parameter is declared once, in its group, for every cmdlet.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
internal sealed class UsesParametersAttribute : Attribute
{
    public UsesParametersAttribute(Type group, params string[] parameterSets)
    {
        Group = group;
        ParameterSets = parameterSets;
    }

    public Type Group { get; }

    public string[] ParameterSets { get; }

    /// <summary>Parameters of the group this cmdlet does not take.</summary>
    public string[] Omit { get; set; } = Array.Empty<string>();
}

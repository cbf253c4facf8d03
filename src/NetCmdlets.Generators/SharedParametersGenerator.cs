using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NetCmdlets.Generators;

/// <summary>
/// Declares a group of parameters once for every cmdlet that takes it. A group is a class whose
/// properties carry [Parameter] and their validation, transformation and completion attributes; a cmdlet
/// names it with [UsesParameters(typeof(Group), "SetA", "SetB")], and this writes, into the cmdlet's
/// partial class, one property per parameter of the group with the group's attributes, its [Parameter]
/// repeated for each of the cmdlet's sets (none named: every set), stored in an instance of the group
/// that the cmdlet reads as a property named after the group's type. PowerShell sees ordinary cmdlet
/// parameters, so help, completion and binding are what they would be if written out by hand.
/// </summary>
/// <remarks>
/// When two groups of one cmdlet have a parameter of the same name, the cmdlet has it once and both
/// groups receive its value (TLS trust settings serve a client and a server side alike). Omit names
/// parameters of the group the cmdlet does not take.
/// </remarks>
[Generator]
public sealed class SharedParametersGenerator : IIncrementalGenerator
{
    private const string UsesParameters = "NetCmdlets.Parameters.UsesParametersAttribute";
    private const string ParameterAttribute = "System.Management.Automation.ParameterAttribute";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier | SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    private static readonly DiagnosticDescriptor UnknownOmit = new(
        "NCG001", "Omitted parameter not in the group", "[UsesParameters(typeof({0}))] on {1} omits '{2}', which {0} does not declare",
        "NetCmdlets.Generators", DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor ClashingType = new(
        "NCG002", "Shared parameter with two types", "Parameter '{0}' of {1} is {2} in one group and {3} in another",
        "NetCmdlets.Generators", DiagnosticSeverity.Error, isEnabledByDefault: true);

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var cmdlets = context.SyntaxProvider.ForAttributeWithMetadataName(
            UsesParameters,
            static (node, _) => node is ClassDeclarationSyntax,
            static (attributed, _) => (Symbol: (INamedTypeSymbol)attributed.TargetSymbol, attributed.Attributes));
        context.RegisterSourceOutput(cmdlets, static (output, cmdlet) => Emit(output, cmdlet.Symbol, cmdlet.Attributes));
    }

    private sealed class Shared
    {
        public Shared(IPropertySymbol property) => Property = property;

        public IPropertySymbol Property { get; }

        /// <summary>Every group instance (by its property name on the cmdlet) that receives the value.</summary>
        public List<string> Receivers { get; } = new();

        public List<string> Sets { get; } = new();
    }

    private static void Emit(SourceProductionContext output, INamedTypeSymbol cmdlet, ImmutableArray<AttributeData> uses)
    {
        var parameters = new List<Shared>();
        var byName = new Dictionary<string, Shared>();
        var groups = new List<INamedTypeSymbol>();
        Location? where = cmdlet.Locations.FirstOrDefault();
        foreach (AttributeData use in uses)
        {
            if (use.ConstructorArguments.Length == 0 || use.ConstructorArguments[0].Value is not INamedTypeSymbol group) continue;
            groups.Add(group);
            string[] sets = use.ConstructorArguments.Length > 1
                ? use.ConstructorArguments[1].Values.Select(v => (string)v.Value!).ToArray()
                : new string[0];
            var omit = new HashSet<string>(use.NamedArguments.Where(a => a.Key == "Omit").SelectMany(a => a.Value.Values).Select(v => (string)v.Value!));
            List<IPropertySymbol> declared = group.GetMembers().OfType<IPropertySymbol>().Where(IsParameter).ToList();
            foreach (string missing in omit.Where(name => declared.All(p => p.Name != name)))
                output.ReportDiagnostic(Diagnostic.Create(UnknownOmit, where, group.Name, cmdlet.Name, missing));
            foreach (IPropertySymbol property in declared)
            {
                if (omit.Contains(property.Name)) continue;
                if (!byName.TryGetValue(property.Name, out Shared? shared))
                {
                    shared = new Shared(property);
                    byName.Add(property.Name, shared);
                    parameters.Add(shared);
                }
                else if (!SymbolEqualityComparer.Default.Equals(shared.Property.Type, property.Type))
                {
                    output.ReportDiagnostic(Diagnostic.Create(ClashingType, where, property.Name, cmdlet.Name,
                        shared.Property.Type.ToDisplayString(), property.Type.ToDisplayString()));
                    continue;
                }
                shared.Receivers.Add(group.Name);
                foreach (string set in sets.Where(s => !shared.Sets.Contains(s))) shared.Sets.Add(set);
            }
        }

        var code = new StringBuilder();
        code.AppendLine("// <auto-generated>The shared parameters of this cmdlet, written by NetCmdlets.Generators from its [UsesParameters].</auto-generated>");
        code.AppendLine("#nullable enable");
        if (!cmdlet.ContainingNamespace.IsGlobalNamespace) code.AppendLine($"namespace {cmdlet.ContainingNamespace.ToDisplayString()};");
        code.AppendLine();
        code.AppendLine($"partial class {cmdlet.Name}");
        code.AppendLine("{");
        foreach (INamedTypeSymbol group in groups)
        {
            string type = group.ToDisplayString(TypeFormat);
            code.AppendLine($"    /// <summary>The values of the parameters of <see cref=\"{type}\"/> given to this cmdlet.</summary>");
            code.AppendLine($"    private {type} {group.Name} {{ get; }} = new {type}();");
            code.AppendLine();
        }
        foreach (Shared shared in parameters)
        {
            IPropertySymbol property = shared.Property;
            code.AppendLine($"    /// <inheritdoc cref=\"{property.ContainingType.ToDisplayString(TypeFormat)}.{property.Name}\"/>");
            foreach (AttributeData attribute in property.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == ParameterAttribute)
                {
                    string named = string.Join(", ", attribute.NamedArguments.Where(a => a.Key != "ParameterSetName").Select(a => $"{a.Key} = {Render(a.Value)}"));
                    if (shared.Sets.Count == 0) code.AppendLine($"    [global::{ParameterAttribute}({named})]");
                    foreach (string set in shared.Sets)
                        code.AppendLine($"    [global::{ParameterAttribute}({(named.Length > 0 ? named + ", " : "")}ParameterSetName = {Literal(set)})]");
                    continue;
                }
                code.AppendLine($"    [{RenderAttribute(attribute)}]");
            }
            string setter = string.Join(" ", shared.Receivers.Select(group => $"{group}.{property.Name} = value;"));
            code.AppendLine($"    public {property.Type.ToDisplayString(TypeFormat)} {property.Name} {{ get => {shared.Receivers[0]}.{property.Name}; set {{ {setter} }} }}");
            code.AppendLine();
        }
        code.AppendLine("}");
        output.AddSource($"{cmdlet.Name}.SharedParameters.g.cs", code.ToString());
    }

    private static bool IsParameter(IPropertySymbol property) =>
        property.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ParameterAttribute);

    private static string RenderAttribute(AttributeData attribute)
    {
        var arguments = attribute.ConstructorArguments.Select(Render)
            .Concat(attribute.NamedArguments.Select(a => $"{a.Key} = {Render(a.Value)}"));
        return $"{attribute.AttributeClass!.ToDisplayString(TypeFormat)}({string.Join(", ", arguments)})";
    }

    private static string Render(TypedConstant constant) => constant.Kind switch
    {
        TypedConstantKind.Array => $"new {((IArrayTypeSymbol)constant.Type!).ElementType.ToDisplayString(TypeFormat)}[] {{ {string.Join(", ", constant.Values.Select(Render))} }}",
        TypedConstantKind.Type => $"typeof({((ITypeSymbol)constant.Value!).ToDisplayString(TypeFormat)})",
        TypedConstantKind.Enum => $"({constant.Type!.ToDisplayString(TypeFormat)})({constant.Value})",
        _ => constant.Value switch
        {
            null => "null",
            string text => Literal(text),
            bool flag => flag ? "true" : "false",
            // Typed as written: an attribute taking objects (ValidateRange) compares the types of its arguments.
            int number => number.ToString(Invariant),
            long number => number.ToString(Invariant) + "L",
            uint number => number.ToString(Invariant) + "U",
            ulong number => number.ToString(Invariant) + "UL",
            double number => double.IsPositiveInfinity(number) ? "double.PositiveInfinity" : number.ToString("R", Invariant) + "d",
            float number => number.ToString("R", Invariant) + "f",
            object other => $"({constant.Type!.ToDisplayString(TypeFormat)})({System.Convert.ToString(other, Invariant)})",
        },
    };

    private static readonly System.Globalization.CultureInfo Invariant = System.Globalization.CultureInfo.InvariantCulture;

    private static string Literal(string text) => "@\"" + text.Replace("\"", "\"\"") + "\"";
}

using System;
using System.Management.Automation;
using System.Reflection;
using System.Text;
using NetCmdlets.Core.Framing;
using NetCmdlets.Core.Messages;
using NetCmdlets.Core.Net;

namespace NetCmdlets;

/// <summary>
/// The JSON framing's values: what is sent becomes compact JSON text as ConvertTo-Json makes it, and a
/// received line becomes the value ConvertFrom-Json gives, with its message reachable through one hidden
/// property, <see cref="MessageProperty"/> (hidden, so converting the value again leaves it out).
/// </summary>
/// <remarks>
/// PowerShell's own converter (Microsoft.PowerShell.Commands.JsonObject) is used, found at run time: the
/// module compiles against PowerShellStandard.Library, which does not carry it.
/// </remarks>
internal static class JsonValues
{
    /// <summary>The property of a received value that holds its message (endpoints, time, connection).</summary>
    public const string MessageProperty = "NetMessage";

    // Found among the loaded assemblies: Windows PowerShell loads it from the GAC, where a partial name does not find it.
    private static readonly Type? s_jsonObject = FindJsonObject();

    private static readonly MethodInfo? s_fromJson = s_jsonObject?.GetMethod(
        "ConvertFromJson", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(ErrorRecord).MakeByRefType() }, null);

    // PowerShell 7: ConvertToJson(object, in ConvertToJsonContext). Windows PowerShell has only the cmdlet.
    private static readonly MethodInfo? s_toJson = s_jsonObject?.GetMethod("ConvertToJson", BindingFlags.Public | BindingFlags.Static);

    private static readonly ConstructorInfo? s_toJsonContext =
        s_jsonObject?.GetNestedType("ConvertToJsonContext")?.GetConstructor(new[] { typeof(int), typeof(bool), typeof(bool) });

    private static readonly PropertyInfo? s_isHidden =
        typeof(PSMemberInfo).GetProperty("IsHidden", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance);

    /// <summary>What a cmdlet emits for a received message: the message, or for JSON lines the value it carries.</summary>
    /// <exception cref="FramingException">A JSON line that is not JSON.</exception>
    public static object? Present(NetMessage message) =>
        message is TcpMessage { Framing.IsJson: true } ? FromJson(message) : message;

    /// <summary>As <see cref="Present"/>; a line that is not JSON ends its connection, and the error is thrown.</summary>
    /// <exception cref="NetException">Framing (FramingError.Json.InvalidJson).</exception>
    public static object? PresentOrFail(TcpMessage message)
    {
        try
        {
            return Present(message);
        }
        catch (FramingException e)
        {
            throw message.GetConnection().FailFraming(e);
        }
    }

    /// <summary>The payload of one JSON line for <paramref name="value"/>; a received message goes back as it came.</summary>
    /// <exception cref="FramingException">The value cannot be converted (a dictionary with keys that are not strings, say): CannotFrame.</exception>
    public static byte[] ToPayload(object? value, Encoding encoding, int depth)
    {
        object? unwrapped = value is PSObject wrapped ? wrapped.BaseObject : value;
        if (unwrapped is NetMessage message) return message.Data;
        try
        {
            return encoding.GetBytes(ToJson(value, depth));
        }
        catch (Exception e) when (e is TargetInvocationException or RuntimeException or InvalidOperationException or ArgumentException)
        {
            Exception cause = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
            throw new FramingException("Json", FramingRule.CannotFrame, $"Json: cannot convert a {unwrapped?.GetType().Name ?? "null"} to JSON: {cause.Message}", cause);
        }
    }

    private static string ToJson(object? value, int depth)
    {
        if (s_toJson is not null && s_toJsonContext is not null)
        {
            object context = s_toJsonContext.Invoke(new object[] { depth, false, true });
            return (string)s_toJson.Invoke(null, new[] { value, context })!;
        }
        var output = ScriptBlock.Create("param($Value, $Depth) ConvertTo-Json -InputObject $Value -Depth $Depth -Compress").Invoke(value, depth);
        return output.Count > 0 ? output[0].ToString() : "null";
    }

    private static object? FromJson(NetMessage message)
    {
        string text = message.Text;
        object? value;
        ErrorRecord? error = null;
        if (s_fromJson is not null)
        {
            var arguments = new object?[] { text, null };
            try
            {
                value = s_fromJson.Invoke(null, arguments);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw InvalidJson(message, e.InnerException.Message, e.InnerException);
            }
            error = arguments[1] as ErrorRecord;
        }
        else
        {
            try
            {
                var output = ScriptBlock.Create("param($Text) ConvertFrom-Json -InputObject $Text").Invoke(text);
                value = output.Count > 0 ? output[0] : null;
            }
            catch (RuntimeException e)
            {
                throw InvalidJson(message, e.Message, e);
            }
        }
        if (error is not null) throw InvalidJson(message, error.Exception.Message, error.Exception);
        if (value is null) return null;
        PSObject result = PSObject.AsPSObject(value);
        var property = new PSNoteProperty(MessageProperty, message);
        // Hidden: ConvertTo-Json, Export-Csv and the default views leave it out; $value.NetMessage still reaches it.
        s_isHidden?.SetValue(property, true);
        // A value with a NetMessage of its own keeps it: the data wins.
        if (result.Properties[MessageProperty] is null) result.Properties.Add(property);
        return result;
    }

    private static Type? FindJsonObject()
    {
        foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.GetName().Name == "Microsoft.PowerShell.Commands.Utility")
                return assembly.GetType("Microsoft.PowerShell.Commands.JsonObject");
        }
        return Type.GetType("Microsoft.PowerShell.Commands.JsonObject, Microsoft.PowerShell.Commands.Utility");
    }

    private static FramingException InvalidJson(NetMessage message, string reason, Exception inner)
    {
        string sample = message.Text.Length > 60 ? message.Text.Substring(0, 60) + "..." : message.Text;
        return new FramingException("Json", FramingRule.InvalidJson, $"Json: a line from {message.RemoteEndPoint} is not JSON ({reason}): {sample}", inner);
    }
}

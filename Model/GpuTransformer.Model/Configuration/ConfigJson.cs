using System.Text.Json;

namespace GpuTransformer.Model.Configuration;

/// <summary>Typed reads of config.json values that fail with a <see cref="ModelFormatException"/> naming the field.</summary>
internal static class ConfigJson
{
    /// <summary>
    /// Parses a JSON object file into cloned top-level values; the last duplicate key wins, as Python's json does.
    /// </summary>
    public static Dictionary<string, JsonElement> ReadObjectFile(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        try
        {
            using JsonDocument document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(path, null, $"the JSON root is a {document.RootElement.ValueKind}, not an object.");
            }

            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                values[property.Name] = property.Value.Clone();
            }

            return values;
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(
                path, null, $"invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {e.Message}", e);
        }
    }

    public static bool IsAbsent(IReadOnlyDictionary<string, JsonElement> values, string key) =>
        !values.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null;

    public static int RequireInt32(IReadOnlyDictionary<string, JsonElement> values, string key, string path, int minimum)
    {
        if (!values.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new ModelFormatException(path, key, "this required field is missing.");
        }

        return ToInt32(value, key, path, minimum);
    }

    public static int Int32OrDefault(
        IReadOnlyDictionary<string, JsonElement> values, string key, string path, int defaultValue, int minimum)
    {
        return values.TryGetValue(key, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? ToInt32(value, key, path, minimum)
            : defaultValue;
    }

    public static int? OptionalInt32(IReadOnlyDictionary<string, JsonElement> values, string key, string path)
    {
        return values.TryGetValue(key, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? ToInt32(value, key, path, int.MinValue)
            : null;
    }

    public static bool BooleanOrDefault(IReadOnlyDictionary<string, JsonElement> values, string key, string path, bool defaultValue)
    {
        if (!values.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return defaultValue;
        }

        return ToBoolean(value, key, path);
    }

    public static string? OptionalString(IReadOnlyDictionary<string, JsonElement> values, string key, string path)
    {
        if (!values.TryGetValue(key, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new ModelFormatException(path, key, $"expected a string but found {Describe(value)}.");
    }

    public static int ToInt32(JsonElement value, string key, string path, int minimum)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
        {
            throw new ModelFormatException(path, key, $"expected an integer but found {Describe(value)}.");
        }

        if (number < minimum)
        {
            throw new ModelFormatException(path, key, $"the value {number} is below the minimum {minimum}.");
        }

        return number;
    }

    public static double ToDouble(JsonElement value, string key, string path)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || !double.IsFinite(number))
        {
            throw new ModelFormatException(path, key, $"expected a finite number but found {Describe(value)}.");
        }

        return number;
    }

    public static bool ToBoolean(JsonElement value, string key, string path) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new ModelFormatException(path, key, $"expected true or false but found {Describe(value)}."),
    };

    public static string Describe(JsonElement value)
    {
        string raw = value.GetRawText();
        if (raw.Length > 60)
        {
            raw = raw[..57] + "...";
        }

        return $"{value.ValueKind.ToString().ToLowerInvariant()} {raw}";
    }
}

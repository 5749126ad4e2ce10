using System.Text.Json;

namespace GpuTransformer.Tokenizer;

/// <summary>Reading of the JSON files that sit next to the SentencePiece models in a Hugging Face folder.</summary>
internal static class TokenizerJson
{
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tokenizer file '{path}' does not exist.", path);
        }

        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException ex)
        {
            throw new TokenizerFormatException(path, "$", $"not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Reads a token → id map. Later duplicates of a key win, as with Python's <c>json.load</c>; insertion order is
    /// kept because the id → token inversion depends on it when ids repeat.
    /// </summary>
    public static Dictionary<string, int> ReadVocab(string path)
    {
        using JsonDocument doc = Parse(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException(path, "$", $"expected an object mapping tokens to ids, found {doc.RootElement.ValueKind}");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty property in doc.RootElement.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new TokenizerFormatException(path, property.Name, $"expected a non-negative integer id, found {property.Value.GetRawText()}");
            }

            vocab[property.Name] = id;
        }

        return vocab;
    }

    /// <summary>A special token given either as a string or as a serialized <c>AddedToken</c> object.</summary>
    public static string? ReadTokenContent(JsonElement element, string path, string field) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Null => null,
        JsonValueKind.Object when element.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String
            => content.GetString(),
        _ => throw new TokenizerFormatException(path, field, $"expected a token string or an object with 'content', found {element.ValueKind}"),
    };

    public static bool ReadBool(JsonElement root, string name, bool fallback, string path)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerFormatException(path, name, $"expected true or false, found {value.GetRawText()}"),
        };
    }

    /// <summary>
    /// Reads an integer limit; Hugging Face writes "no limit" as a huge float (1e30), which becomes
    /// <see cref="int.MaxValue"/>.
    /// </summary>
    public static int ReadLimit(JsonElement root, string name, int fallback, string path)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || number < 1 || number != Math.Floor(number))
        {
            throw new TokenizerFormatException(path, name, $"expected a positive integer, found {value.GetRawText()}");
        }

        return number >= int.MaxValue ? int.MaxValue : (int)number;
    }
}

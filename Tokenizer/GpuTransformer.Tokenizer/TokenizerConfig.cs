using System.Text.Json;

namespace GpuTransformer.Tokenizer;

/// <summary>
/// <c>tokenizer_config.json</c> with <c>special_tokens_map.json</c> as fallback for the special tokens, as
/// <c>from_pretrained</c> of transformers 4.43 reads them for a slow tokenizer. Both files are optional.
/// </summary>
internal sealed class TokenizerConfig
{
    private static readonly string[] SpecialAttributes = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);

    private TokenizerConfig(string directory)
    {
        Directory = directory;
        ConfigPath = Path.Combine(directory, "tokenizer_config.json");
        string mapPath = Path.Combine(directory, "special_tokens_map.json");
        if (File.Exists(mapPath))
        {
            ReadObject(mapPath, overwrite: true);
        }

        // tokenizer_config.json wins over special_tokens_map.json where both name a token.
        if (File.Exists(ConfigPath))
        {
            ReadObject(ConfigPath, overwrite: true);
        }

        if (_values.TryGetValue("added_tokens_decoder", out JsonElement added) && added.ValueKind == JsonValueKind.Object)
        {
            AddedTokensDecoder = [];
            foreach (JsonProperty entry in added.EnumerateObject())
            {
                string field = $"added_tokens_decoder.{entry.Name}";
                if (!int.TryParse(entry.Name, out int id) || id < 0)
                {
                    throw new TokenizerFormatException(ConfigPath, field, "expected a non-negative integer id as key");
                }

                AddedTokensDecoder[id] = ReadAddedToken(entry.Value, field, special: true)
                    ?? throw new TokenizerFormatException(ConfigPath, field, "missing token content");
            }
        }

        if (_values.TryGetValue("additional_special_tokens", out JsonElement extra) && extra.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement token in extra.EnumerateArray())
            {
                string? content = TokenizerJson.ReadTokenContent(token, ConfigPath, $"additional_special_tokens[{i++}]");
                if (!string.IsNullOrEmpty(content) && !AdditionalSpecialTokens.Contains(content))
                {
                    AdditionalSpecialTokens.Add(content);
                }
            }
        }
    }

    public string Directory { get; }

    public string ConfigPath { get; }

    /// <summary>The <c>added_tokens_decoder</c> of the config, or null when it has none (older folders).</summary>
    public SortedDictionary<int, AddedToken>? AddedTokensDecoder { get; }

    public List<string> AdditionalSpecialTokens { get; } = [];

    public static TokenizerConfig Load(string directory) => new(directory);

    public static IReadOnlyList<string> SpecialTokenAttributes => SpecialAttributes;

    /// <summary>A special token attribute (<c>eos_token</c>, ...): its content, the default when absent.</summary>
    public AddedToken? SpecialToken(string name, string? fallback, bool lstrip = false)
    {
        if (!_values.TryGetValue(name, out JsonElement value))
        {
            return fallback is null ? null : new AddedToken(fallback, LStrip: lstrip);
        }

        var token = ReadAddedToken(value, name, special: true);
        if (token is null)
        {
            return null;
        }

        // A plain string in the file gets the class's own AddedToken flags (e.g. <mask> lstrip).
        return value.ValueKind == JsonValueKind.String ? token with { LStrip = lstrip } : token;
    }

    public string? GetString(string name)
    {
        if (!_values.TryGetValue(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new TokenizerFormatException(ConfigPath, name, $"expected a string, found {value.GetRawText()}");
    }

    public bool GetBool(string name, bool fallback)
    {
        if (!_values.TryGetValue(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerFormatException(ConfigPath, name, $"expected true or false, found {value.GetRawText()}"),
        };
    }

    public int GetInt(string name, int fallback)
    {
        if (!_values.TryGetValue(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number)
            ? number
            : throw new TokenizerFormatException(ConfigPath, name, $"expected an integer, found {value.GetRawText()}");
    }

    /// <summary><c>model_max_length</c>; HF writes "no limit" as 1e30, which becomes <see cref="int.MaxValue"/>.</summary>
    public int ModelMaxLength
    {
        get
        {
            if (!_values.TryGetValue("model_max_length", out JsonElement value) || value.ValueKind == JsonValueKind.Null)
            {
                return int.MaxValue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double number) || number < 1 || number != Math.Floor(number))
            {
                throw new TokenizerFormatException(ConfigPath, "model_max_length", $"expected a positive integer, found {value.GetRawText()}");
            }

            return number >= int.MaxValue ? int.MaxValue : (int)number;
        }
    }

    private void ReadObject(string path, bool overwrite)
    {
        using JsonDocument doc = TokenizerJson.Parse(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException(path, "$", $"expected an object, found {doc.RootElement.ValueKind}");
        }

        foreach (JsonProperty property in doc.RootElement.EnumerateObject())
        {
            if (overwrite || !_values.ContainsKey(property.Name))
            {
                _values[property.Name] = property.Value.Clone();
            }
        }
    }

    private AddedToken? ReadAddedToken(JsonElement element, string field, bool special)
    {
        string? content = TokenizerJson.ReadTokenContent(element, ConfigPath, field);
        if (content is null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return new AddedToken(content, Special: special);
        }

        bool Flag(string name, bool fallback) => element.TryGetProperty(name, out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : fallback;

        return new AddedToken(content, Flag("lstrip", false), Flag("rstrip", false), Flag("single_word", false), Flag("special", special));
    }
}

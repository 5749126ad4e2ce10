using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuTransformer.Cli;

/// <summary>
/// Writes a randomly initialised <c>MarianMTModel</c> folder in the Hugging Face format (config.json,
/// generation_config.json, model.safetensors in float32, MarianTokenizer files), for timing and for load tests at
/// full size without downloading a real model. Tensor names, config keys and defaults are those
/// <c>MarianMTModel.save_pretrained</c> writes for Helsinki-NLP/opus-mt-en-de, so HF loads the folder unchanged.
/// </summary>
public static class RandomModelWriter
{
    private const int ChunkValues = 1 << 16;

    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private enum Init
    {
        Normal,
        NormalPadRowZero,
        Ones,
        Zeros,
    }

    /// <summary>Writes the folder.</summary>
    /// <param name="directory">The output folder; created if absent, files in it are replaced.</param>
    /// <param name="preset">The model's shape.</param>
    /// <param name="seed">Seed of the weight generator: the same seed gives the same bytes.</param>
    /// <param name="tokenizerDirectory">A Marian model folder whose joint-vocabulary tokenizer files are taken (its ids must fit the preset's vocabulary).</param>
    /// <param name="writeWeights">False to write everything but model.safetensors (for checking the configuration cheaply).</param>
    /// <exception cref="InvalidDataException">The tokenizer folder's vocab.json does not fit the preset.</exception>
    public static void Write(string directory, RandomModelPreset preset, ulong seed, string tokenizerDirectory, bool writeWeights = true)
    {
        ArgumentNullException.ThrowIfNull(preset);
        Directory.CreateDirectory(directory);
        WriteTokenizer(directory, preset, tokenizerDirectory);
        WriteJson(Path.Combine(directory, "config.json"), ModelConfig(preset));
        WriteJson(Path.Combine(directory, "generation_config.json"), GenerationConfig(preset));
        if (writeWeights)
        {
            WriteWeights(Path.Combine(directory, "model.safetensors"), preset, seed);
        }
    }

    /// <summary>The tensor names and shapes of model.safetensors, in file order.</summary>
    /// <param name="preset">The model's shape.</param>
    /// <returns>(name, shape) pairs, sorted by name as <c>save_pretrained</c> writes them.</returns>
    public static IReadOnlyList<(string Name, int[] Shape)> TensorShapes(RandomModelPreset preset) =>
        Tensors(preset).Select(t => (t.Name, t.Shape)).ToArray();

    private static List<(string Name, int[] Shape, Init Init)> Tensors(RandomModelPreset p)
    {
        int d = p.ModelDim, f = p.FfnDim;
        var list = new List<(string, int[], Init)>
        {
            ("final_logits_bias", [1, p.VocabSize], Init.Zeros),
            ("model.shared.weight", [p.VocabSize, d], Init.NormalPadRowZero),
        };

        void Linear(string prefix, int outDim, int inDim)
        {
            list.Add((prefix + ".weight", [outDim, inDim], Init.Normal));
            list.Add((prefix + ".bias", [outDim], Init.Zeros));
        }

        void Norm(string prefix)
        {
            list.Add((prefix + ".weight", [d], Init.Ones));
            list.Add((prefix + ".bias", [d], Init.Zeros));
        }

        void Attention(string prefix)
        {
            foreach (string projection in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                Linear($"{prefix}.{projection}", d, d);
            }
        }

        for (int l = 0; l < p.EncoderLayers; l++)
        {
            string layer = $"model.encoder.layers.{l}";
            Attention(layer + ".self_attn");
            Norm(layer + ".self_attn_layer_norm");
            Linear(layer + ".fc1", f, d);
            Linear(layer + ".fc2", d, f);
            Norm(layer + ".final_layer_norm");
        }

        for (int l = 0; l < p.DecoderLayers; l++)
        {
            string layer = $"model.decoder.layers.{l}";
            Attention(layer + ".self_attn");
            Norm(layer + ".self_attn_layer_norm");
            Attention(layer + ".encoder_attn");
            Norm(layer + ".encoder_attn_layer_norm");
            Linear(layer + ".fc1", f, d);
            Linear(layer + ".fc2", d, f);
            Norm(layer + ".final_layer_norm");
        }

        list.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return list;
    }

    private static void WriteWeights(string path, RandomModelPreset preset, ulong seed)
    {
        var tensors = Tensors(preset);
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, shape, _) in tensors)
        {
            long bytes = 4 * shape.Aggregate(1L, (a, b) => a * b);
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }

        // The header is padded with spaces to a multiple of 8 so the data (and every f32 tensor) stays aligned when mapped.
        string json = header.ToJsonString();
        json = json.PadRight((json.Length + 7) / 8 * 8);
        byte[] headerBytes = Encoding.UTF8.GetBytes(json);
        string temporary = path + ".partial";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)headerBytes.Length);
            stream.Write(prefix);
            stream.Write(headerBytes);
            var random = new NormalGenerator(seed);
            float[] chunk = new float[ChunkValues];
            foreach (var (_, shape, init) in tensors)
            {
                long count = shape.Aggregate(1L, (a, b) => a * b);
                int rowLength = shape[^1];
                long padStart = (long)preset.PadId * rowLength;
                for (long start = 0; start < count; start += ChunkValues)
                {
                    int n = (int)Math.Min(ChunkValues, count - start);
                    var values = chunk.AsSpan(0, n);
                    switch (init)
                    {
                        case Init.Ones:
                            values.Fill(1f);
                            break;
                        case Init.Zeros:
                            values.Clear();
                            break;
                        default:
                            random.Fill(values, 0.02f);
                            break;
                    }

                    // Like nn.Embedding(padding_idx=pad) after HF's init: the pad row of the shared embedding is zero.
                    if (init == Init.NormalPadRowZero)
                    {
                        for (int i = 0; i < n; i++)
                        {
                            long index = start + i;
                            if (index >= padStart && index < padStart + rowLength)
                            {
                                values[i] = 0f;
                            }
                        }
                    }

                    if (!BitConverter.IsLittleEndian)
                    {
                        var raw = MemoryMarshal.Cast<float, int>(values);
                        BinaryPrimitives.ReverseEndianness(raw, raw);
                    }

                    stream.Write(MemoryMarshal.AsBytes(values));
                }
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static void WriteTokenizer(string directory, RandomModelPreset preset, string source)
    {
        string vocabPath = Path.Combine(source, "vocab.json");
        var original = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
            ?? throw new InvalidDataException($"{vocabPath}: not a JSON object of ids");
        var byId = new string?[preset.VocabSize];
        foreach (var (piece, id) in original)
        {
            if (piece == "<pad>")
            {
                continue;
            }

            if (id < 0 || id >= preset.PadId || byId[id] is not null)
            {
                throw new InvalidDataException($"{vocabPath}: id {id} of '{piece}' does not fit a vocabulary of {preset.VocabSize} with <pad> = {preset.PadId}");
            }

            byId[id] = piece;
        }

        for (int id = 0; id < preset.PadId; id++)
        {
            byId[id] ??= string.Create(CultureInfo.InvariantCulture, $"<unused_{id}>");
        }

        byId[preset.PadId] = "<pad>";
        using (var stream = File.Create(Path.Combine(directory, "vocab.json")))
        using (var json = new Utf8JsonWriter(stream, JsonOptions))
        {
            json.WriteStartObject();
            for (int id = 0; id < byId.Length; id++)
            {
                json.WriteNumber(byId[id]!, id);
            }

            json.WriteEndObject();
        }

        foreach (string file in new[] { "source.spm", "target.spm", "special_tokens_map.json" })
        {
            File.Copy(Path.Combine(source, file), Path.Combine(directory, file), overwrite: true);
        }

        // added_tokens_decoder names the special tokens by id: <pad> moves to the new pad id.
        string configPath = Path.Combine(source, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? throw new InvalidDataException($"{configPath}: not a JSON object");
        if (config["added_tokens_decoder"] is JsonObject added)
        {
            var moved = new JsonObject();
            foreach (var (id, token) in added.ToArray())
            {
                added.Remove(id);
                bool isPad = token?["content"]?.GetValue<string>() == "<pad>";
                moved[isPad ? preset.PadId.ToString(CultureInfo.InvariantCulture) : id] = token;
            }

            config["added_tokens_decoder"] = moved;
        }

        WriteJson(Path.Combine(directory, "tokenizer_config.json"), config);
    }

    private static JsonObject ModelConfig(RandomModelPreset p) => new()
    {
        ["activation_dropout"] = 0.0,
        ["activation_function"] = "swish",
        ["add_bias_logits"] = false,
        ["add_final_layer_norm"] = false,
        ["architectures"] = new JsonArray("MarianMTModel"),
        ["attention_dropout"] = 0.0,
        ["bad_words_ids"] = new JsonArray(new JsonArray(p.PadId)),
        ["bos_token_id"] = 0,
        ["d_model"] = p.ModelDim,
        ["decoder_attention_heads"] = p.Heads,
        ["decoder_ffn_dim"] = p.FfnDim,
        ["decoder_layerdrop"] = 0.0,
        ["decoder_layers"] = p.DecoderLayers,
        ["decoder_start_token_id"] = p.PadId,
        ["decoder_vocab_size"] = p.VocabSize,
        ["dropout"] = 0.1,
        ["encoder_attention_heads"] = p.Heads,
        ["encoder_ffn_dim"] = p.FfnDim,
        ["encoder_layerdrop"] = 0.0,
        ["encoder_layers"] = p.EncoderLayers,
        ["eos_token_id"] = 0,
        ["forced_eos_token_id"] = 0,
        ["init_std"] = 0.02,
        ["is_encoder_decoder"] = true,
        ["max_length"] = p.MaxPositions,
        ["max_position_embeddings"] = p.MaxPositions,
        ["model_type"] = "marian",
        ["normalize_before"] = false,
        ["normalize_embedding"] = false,
        ["num_beams"] = 4,
        ["num_hidden_layers"] = p.EncoderLayers,
        ["pad_token_id"] = p.PadId,
        ["scale_embedding"] = true,
        ["share_encoder_decoder_embeddings"] = true,
        ["static_position_embeddings"] = true,
        ["torch_dtype"] = "float32",
        ["transformers_version"] = "4.43.4",
        ["use_cache"] = true,
        ["vocab_size"] = p.VocabSize,
    };

    private static JsonObject GenerationConfig(RandomModelPreset p) => new()
    {
        ["bad_words_ids"] = new JsonArray(new JsonArray(p.PadId)),
        ["bos_token_id"] = 0,
        ["decoder_start_token_id"] = p.PadId,
        ["eos_token_id"] = 0,
        ["forced_eos_token_id"] = 0,
        ["max_length"] = p.MaxPositions,
        ["num_beams"] = 4,
        ["pad_token_id"] = p.PadId,
        ["transformers_version"] = "4.43.4",
    };

    private static void WriteJson(string path, JsonNode node)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, JsonOptions);
        node.WriteTo(json);
    }

    /// <summary>xoshiro256** with Box–Muller: fast, and the same numbers on every platform and .NET version.</summary>
    private sealed class NormalGenerator
    {
        private ulong s0, s1, s2, s3;

        public NormalGenerator(ulong seed)
        {
            s0 = SplitMix(ref seed);
            s1 = SplitMix(ref seed);
            s2 = SplitMix(ref seed);
            s3 = SplitMix(ref seed);
        }

        public void Fill(Span<float> values, float std)
        {
            for (int i = 0; i < values.Length; i += 2)
            {
                // u1 in (0, 1] so that the logarithm is finite.
                double u1 = ((Next() >> 11) + 1) * (1.0 / (1UL << 53));
                double u2 = (Next() >> 11) * (1.0 / (1UL << 53));
                double r = std * Math.Sqrt(-2.0 * Math.Log(u1));
                double angle = 2.0 * Math.PI * u2;
                values[i] = (float)(r * Math.Cos(angle));
                if (i + 1 < values.Length)
                {
                    values[i + 1] = (float)(r * Math.Sin(angle));
                }
            }
        }

        private static ulong SplitMix(ref ulong state)
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        private ulong Next()
        {
            ulong result = BitOperations.RotateLeft(s1 * 5, 7) * 9;
            ulong t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = BitOperations.RotateLeft(s3, 45);
            return result;
        }
    }
}

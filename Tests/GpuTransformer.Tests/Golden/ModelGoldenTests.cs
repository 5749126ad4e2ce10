using System.Text.Json;
using GpuTransformer.Model.Architectures;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Generation;
using GpuTransformer.Model.Weights;
using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.Golden;

/// <summary>
/// Every family's model and search on the CPU backend against HF's outputs, fed the golden input ids directly so that
/// model and tokenizer failures are told apart (the tokenizer has its own golden tests).
/// </summary>
public sealed class ModelGoldenTests
{
    /// <summary>Every fixture of every family on every device present.</summary>
    public static TheoryData<string, string> Fixtures() => TestDevices.Pairs(TestData.AllFixtures);

    /// <summary>Every fixture of every family.</summary>
    public static TheoryData<string> FixtureNames() => new(TestData.AllFixtures);

    /// <summary>Encoder last_hidden_state of every case and every padded batch, padded positions included.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void EncoderHiddenStatesMatchGolden(string fixture, string device)
    {
        using var loaded = Load(fixture, device);
        var (golden, model) = (loaded.Golden, loaded.Model);
        foreach (var c in golden.Cases.Where(c => c.TryGetProperty("encoder", out _)))
        {
            int[] ids = GoldenFile.Ints(c.GetProperty("tokenize").GetProperty("input_ids"));
            using var output = model.Encode(ids, 1, ids.Length, [ids.Length]);
            Numerics.AssertClose(GoldenFile.Flat(c.GetProperty("encoder").GetProperty("last_hidden_state")), output.ReadHidden(), $"{fixture}/{c.GetProperty("id")} encoder");
        }

        foreach (var b in golden.Batches.Where(b => b.TryGetProperty("encoder", out _)))
        {
            var (ids, rows, length, lengths) = Batch(b);
            using var output = model.Encode(ids, rows, length, lengths);
            Numerics.AssertClose(GoldenFile.Flat(b.GetProperty("encoder").GetProperty("last_hidden_state")), output.ReadHidden(), $"{fixture}/{b.GetProperty("id")} encoder");
        }
    }

    /// <summary>Teacher-forced logits (rows 0, 1, last), the argmax at every position and the label log-probs.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TeacherForcedLogitsMatchGolden(string fixture, string device)
    {
        using var loaded = Load(fixture, device);
        var (golden, model) = (loaded.Golden, loaded.Model);
        int vocab = model.TargetVocabSize;
        foreach (var c in golden.Cases)
        {
            string id = $"{fixture}/{c.GetProperty("id")}";
            int[] ids = GoldenFile.Ints(c.GetProperty("tokenize").GetProperty("input_ids"));
            var tf = c.GetProperty("teacher_forced");
            int[] decoderIds = GoldenFile.Ints(tf.GetProperty("decoder_input_ids"));
            int[] labels = GoldenFile.Ints(c.GetProperty("target").GetProperty("labels"));
            using var encoder = model.Encode(ids, 1, ids.Length, [ids.Length]);
            using var state = model.CreateDecoderState(encoder, 1, decoderIds.Length, decoderIds.Length);
            var logits = new float[decoderIds.Length * vocab];
            model.Decode(state, decoderIds, decoderIds.Length);
            state.Logits.SubView(0, logits.Length).CopyToCPU(logits);

            if (tf.TryGetProperty("logits_rows", out var rows))
            {
                foreach (var row in rows.EnumerateObject())
                {
                    int position = row.Name == "last" ? decoderIds.Length - 1 : int.Parse(row.Name, System.Globalization.CultureInfo.InvariantCulture);
                    Numerics.AssertClose(GoldenFile.Flat(row.Value), logits.AsSpan(position * vocab, vocab), $"{id} logits[{row.Name}]");
                }
            }

            int[] argmax = GoldenFile.Ints(tf.GetProperty("argmax"));
            var labelLogProbs = new float[labels.Length];
            for (int t = 0; t < decoderIds.Length; t++)
            {
                var row = logits.AsSpan(t * vocab, vocab);
                Assert.True(argmax[t] == ArgMax(row), $"{id}: argmax at position {t}");
                var logProbs = new float[vocab];
                GpuTransformer.Kernels.Cpu.CpuSoftmax.LogSoftmax(row, logProbs);
                labelLogProbs[t] = logProbs[labels[t]];
            }

            Numerics.AssertClose(GoldenFile.Flat(tf.GetProperty("label_logprobs")), labelLogProbs, id + " label log-probs");
        }
    }

    /// <summary>The decoder inputs HF makes from the labels (mBART wraps the language code to the front).</summary>
    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void DecoderInputsFromLabelsMatchGolden(string fixture)
    {
        string dir = TestData.Model(fixture);
        var config = ModelConfig.Load(dir);
        var spec = ArchitectureSpec.For(config);
        foreach (var c in GoldenFile.Load(dir).Cases)
        {
            int[] labels = GoldenFile.Ints(c.GetProperty("target").GetProperty("labels"));
            int[] expected = GoldenFile.Ints(c.GetProperty("teacher_forced").GetProperty("decoder_input_ids"));
            Assert.Equal(expected, TeacherForcing.DecoderInputs(config, spec, labels));
        }
    }

    /// <summary>Every generate run of every case and batch: ids exact, beam scores within 1e-4.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GenerateMatchesGolden(string fixture, string device)
    {
        using var loaded = Load(fixture, device);
        var (golden, model, defaults) = (loaded.Golden, loaded.Model, loaded.Defaults);
        var generator = new SequenceGenerator(model);
        foreach (var c in golden.Cases)
        {
            int[] ids = GoldenFile.Ints(c.GetProperty("tokenize").GetProperty("input_ids"));
            using var encoder = model.Encode(ids, 1, ids.Length, [ids.Length]);
            CheckRuns($"{fixture}/{c.GetProperty("id")}", c.GetProperty("generate"), encoder, generator, defaults);
        }

        foreach (var b in golden.Batches)
        {
            var (ids, rows, length, lengths) = Batch(b);
            using var encoder = model.Encode(ids, rows, length, lengths);
            CheckRuns($"{fixture}/{b.GetProperty("id")}", b.GetProperty("generate"), encoder, generator, defaults);
        }
    }

    /// <summary>
    /// Every greedy step of every greedy run, decoded one token at a time through the KV cache as generate does: the
    /// top two processed scores and their ids. Greedy ids alone can hide a wrong incremental position or cache entry
    /// when the random model repeats a token; the step scores cannot.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GreedyStepScoresMatchGolden(string fixture, string device)
    {
        using var loaded = Load(fixture, device);
        var (golden, model, defaults) = (loaded.Golden, loaded.Model, loaded.Defaults);
        foreach (var c in golden.Cases)
        {
            int[] ids = GoldenFile.Ints(c.GetProperty("tokenize").GetProperty("input_ids"));
            using var encoder = model.Encode(ids, 1, ids.Length, [ids.Length]);
            CheckSteps($"{fixture}/{c.GetProperty("id")}", c.GetProperty("generate"), model, encoder, defaults);
        }

        foreach (var b in golden.Batches)
        {
            var (ids, rows, length, lengths) = Batch(b);
            using var encoder = model.Encode(ids, rows, length, lengths);
            CheckSteps($"{fixture}/{b.GetProperty("id")}", b.GetProperty("generate"), model, encoder, defaults);
        }
    }

    /// <summary>Reads a golden <c>generate()</c> argument set as options; what it leaves out comes from the model's defaults.</summary>
    internal static GenerationOptions OptionsFrom(JsonElement args) => new()
    {
        NumBeams = args.TryGetProperty("num_beams", out var b) ? b.GetInt32() : null,
        MaxNewTokens = args.GetProperty("max_new_tokens").GetInt32(),
        NoRepeatNgramSize = args.TryGetProperty("no_repeat_ngram_size", out var n) ? n.GetInt32() : null,
        LengthPenalty = args.TryGetProperty("length_penalty", out var lp) ? (float)lp.GetDouble() : null,
        EarlyStopping = args.TryGetProperty("early_stopping", out var es) ? (es.GetBoolean() ? EarlyStoppingMode.True : EarlyStoppingMode.False) : null,
        NumReturnSequences = args.TryGetProperty("num_return_sequences", out var r) ? r.GetInt32() : null,
    };

    /// <summary>A golden sequence row as generate's ids for one hypothesis: through the first EOS, without padding.</summary>
    internal static int[] TrimPadding(int[] row, int eos)
    {
        int end = Array.IndexOf(row, eos, 1);
        return end < 0 ? row : row[..(end + 1)];
    }

    private static void CheckRuns(string id, JsonElement runs, EncoderOutput encoder, SequenceGenerator generator, GenerationConfig defaults)
    {
        foreach (var run in runs.EnumerateObject())
        {
            var settings = GenerationSettings.Resolve(defaults, OptionsFrom(run.Value.GetProperty("args")));
            var results = generator.Generate(encoder, settings, CancellationToken.None);
            int[][] expected = GoldenFile.IntRows(run.Value.GetProperty("sequences"));
            var actual = results.SelectMany(r => r).ToArray();
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(
                    TrimPadding(expected[i], settings.EosTokenIds[0]).SequenceEqual(actual[i].Ids),
                    $"{id} {run.Name} row {i}: expected [{string.Join(",", TrimPadding(expected[i], settings.EosTokenIds[0]))}] got [{string.Join(",", actual[i].Ids)}]");
            }

            if (run.Value.TryGetProperty("sequences_scores", out var scores))
            {
                Numerics.AssertClose(GoldenFile.Flat(scores), actual.Select(h => h.Score).ToArray(), $"{id} {run.Name} sequences_scores");
            }
        }
    }

    private static void CheckSteps(string id, JsonElement runs, EncoderDecoderModel model, EncoderOutput encoder, GenerationConfig defaults)
    {
        foreach (var run in runs.EnumerateObject().Where(r => r.Value.TryGetProperty("steps", out _)))
        {
            var settings = GenerationSettings.Resolve(defaults, OptionsFrom(run.Value.GetProperty("args")));
            int[][] sequences = GoldenFile.IntRows(run.Value.GetProperty("sequences"));
            int length = sequences[0].Length;
            int[] flat = sequences.SelectMany(s => s).ToArray();
            var steps = run.Value.GetProperty("steps").EnumerateArray().ToArray();
            using var state = model.CreateDecoderState(encoder, 1, length);
            using var selector = new StepSelector(model.Accelerator, settings, sequences.Length, model.TargetVocabSize, k: 2, logSoftmaxFirst: false);
            var tokens = new int[sequences.Length];
            for (int t = 0; t < steps.Length; t++)
            {
                // Rows that have finished are fed padding, as HF does; their scores are not recorded.
                for (int r = 0; r < sequences.Length; r++)
                {
                    tokens[r] = sequences[r][t];
                }

                model.Decode(state, tokens, 1);
                selector.Select(state.Logits, flat, length, t + 1, default);
                var rowSteps = steps[t].EnumerateArray().ToArray();
                for (int r = 0; r < sequences.Length; r++)
                {
                    if (rowSteps[r].ValueKind != JsonValueKind.Null)
                    {
                        CheckTopTwo($"{id} {run.Name} row {r} step {t}", rowSteps[r], selector.Ids.AsSpan(2 * r, 2), selector.Scores.AsSpan(2 * r, 2));
                    }
                }
            }
        }
    }

    /// <summary>Golden <c>[top1_id, top1_score, top2_id, top2_score]</c>; a score is a number or "-inf".</summary>
    private static void CheckTopTwo(string what, JsonElement golden, ReadOnlySpan<int> ids, ReadOnlySpan<float> scores)
    {
        var g = golden.EnumerateArray().ToArray();
        int first = ids[0], second = ids[1];
        double[] expectedScores = [Score(g[1]), Score(g[3])];
        float[] actualScores = [scores[0], scores[1]];
        for (int i = 0; i < 2; i++)
        {
            if (double.IsNegativeInfinity(expectedScores[i]))
            {
                Assert.True(float.IsNegativeInfinity(actualScores[i]), $"{what}: score {i} is {actualScores[i]}, golden -inf");
            }
            else
            {
                Numerics.AssertClose([expectedScores[i]], [actualScores[i]], $"{what} score {i}");
            }
        }

        // Ids must agree except where the two scores tie within the tolerance.
        bool tie = Math.Abs(expectedScores[0] - expectedScores[1]) <= 2 * Numerics.Absolute;
        int[] expectedIds = [g[0].GetInt32(), g[2].GetInt32()];
        Assert.True(
            (expectedIds[0] == first && (expectedIds[1] == second || double.IsNegativeInfinity(expectedScores[1]))) || (tie && expectedIds[0] == second && expectedIds[1] == first),
            $"{what}: top ids {first}, {second}; golden {expectedIds[0]}, {expectedIds[1]}");
    }

    private static double Score(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? e.GetString() switch
        {
            "-inf" => double.NegativeInfinity,
            "inf" => double.PositiveInfinity,
            var other => throw new FormatException($"unexpected score '{other}' in the golden"),
        }
        : e.GetDouble();

    private static (int[] Ids, int Rows, int Length, int[] Lengths) Batch(JsonElement b)
    {
        int[][] ids = GoldenFile.IntRows(b.GetProperty("input_ids"));
        int[][] mask = GoldenFile.IntRows(b.GetProperty("attention_mask"));
        return (ids.SelectMany(r => r).ToArray(), ids.Length, ids[0].Length, mask.Select(m => m.Sum()).ToArray());
    }

    private static LoadedFixture Load(string fixture, string device)
    {
        string dir = TestData.Model(fixture);
        var config = ModelConfig.Load(dir);
        using var weights = WeightStore.Open(dir);
        var accelerator = DeviceCatalog.Open(device);
        try
        {
            return new LoadedFixture(GoldenFile.Load(dir), accelerator, EncoderDecoderModel.Load(config, weights, accelerator), GenerationConfig.Load(dir, config));
        }
        catch
        {
            accelerator.Dispose();
            throw;
        }
    }

    private sealed record LoadedFixture(GoldenFile Golden, Accelerator Accelerator, EncoderDecoderModel Model, GenerationConfig Defaults) : IDisposable
    {
        public void Dispose()
        {
            Model.Dispose();
            Accelerator.Dispose();
        }
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
            {
                best = i;
            }
        }

        return best;
    }
}

using GpuTransformer.Model;
using GpuTransformer.Tests.Golden;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>Text in, text out through the public API: tokenizer, model, search and decoding together against HF.</summary>
public sealed class TranslatorGoldenTests
{
    /// <summary>
    /// Every Marian fixture on every device present, and every other family's fixture on cpu: text goes through each
    /// family's own tokenizer, and ModelGoldenTests already holds every device to every family's ids.
    /// </summary>
    public static TheoryData<string, string> Fixtures()
    {
        var data = TestDevices.Pairs(TestData.MarianFixtures);
        foreach (string fixture in TestData.AllFixtures.Except(TestData.MarianFixtures))
        {
            data.Add(fixture, "cpu");
        }

        return data;
    }

    /// <summary>Each case's source text gives HF's ids, texts and beam scores for every generate run.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TranslateMatchesGoldenForEveryCaseAndRun(string fixture, string device)
    {
        string dir = TestData.Model(fixture);
        var golden = GoldenFile.Load(dir);
        using var translator = Translator.Create(dir, new TranslatorOptions { Device = device });
        foreach (var c in golden.Cases)
        {
            string src = c.GetProperty("src").GetString()!;
            foreach (var run in c.GetProperty("generate").EnumerateObject())
            {
                var result = translator.Translate(src, ModelGoldenTests.OptionsFrom(run.Value.GetProperty("args")));
                CheckRun($"{fixture}/{c.GetProperty("id")} {run.Name}", run.Value, [result], translator.Tokenizer.EosId);
            }
        }
    }

    /// <summary>Padded batches give the same ids as HF's padded batch generate.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void TranslateBatchMatchesGolden(string fixture, string device)
    {
        string dir = TestData.Model(fixture);
        var golden = GoldenFile.Load(dir);
        using var translator = Translator.Create(dir, new TranslatorOptions { Device = device });
        foreach (var b in golden.Batches)
        {
            var sources = b.GetProperty("src").EnumerateArray().Select(s => s.GetString()!).ToArray();
            foreach (var run in b.GetProperty("generate").EnumerateObject())
            {
                var results = translator.Translate(sources, ModelGoldenTests.OptionsFrom(run.Value.GetProperty("args")));
                CheckRun($"{fixture}/{b.GetProperty("id")} {run.Name}", run.Value, results, translator.Tokenizer.EosId);
            }
        }
    }

    /// <summary>Teacher-forced scoring gives HF's log-probability of every label.</summary>
    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ScoreMatchesGoldenLabelLogProbabilities(string fixture, string device)
    {
        string dir = TestData.Model(fixture);
        using var translator = Translator.Create(dir, new TranslatorOptions { Device = device });
        foreach (var c in GoldenFile.Load(dir).Cases)
        {
            var target = c.GetProperty("target");
            var score = translator.Score(c.GetProperty("src").GetString()!, target.GetProperty("text").GetString()!);
            Assert.Equal(GoldenFile.Ints(target.GetProperty("labels")), score.TargetIds);
            Numerics.AssertClose(GoldenFile.Flat(c.GetProperty("teacher_forced").GetProperty("label_logprobs")), score.TokenLogProbabilities.ToArray(), $"{fixture}/{c.GetProperty("id")} label log-probs");
        }
    }

    /// <summary>
    /// Every accelerator gives the CPU's greedy ids on real text: the first Multi30k test sentences through the bundled
    /// model, in one padded batch.
    /// </summary>
    [Theory]
    [MemberData(nameof(Accelerators))]
    /// <remarks>The emulator, which runs the C# kernels on the CPU, gets the first 16 sentences to keep CI short.</remarks>
    public void GreedyIdsEqualTheCpuOnes(string device)
    {
        using var reference = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestData.File("tokenizer", "reference_multi30k-en-de-small_source_flickr2016en.json")));
        var sentences = reference.RootElement.GetProperty("cases").EnumerateArray().Take(device == "emulator" ? 16 : 48).Select(c => c.GetProperty("text").GetString()!).ToArray();
        var options = new Model.Generation.GenerationOptions { NumBeams = 1, MaxNewTokens = 40 };
        using var cpu = Translator.Create(TestData.Model("multi30k-en-de-small"), new TranslatorOptions { Device = "cpu" });
        using var other = Translator.Create(TestData.Model("multi30k-en-de-small"), new TranslatorOptions { Device = device });
        var expected = cpu.Translate(sentences, options);
        var actual = other.Translate(sentences, options);
        for (int i = 0; i < sentences.Length; i++)
        {
            Assert.True(expected[i].Hypotheses[0].Ids.SequenceEqual(actual[i].Hypotheses[0].Ids), $"sentence {i} '{sentences[i]}': cpu [{string.Join(",", expected[i].Hypotheses[0].Ids)}], {device} [{string.Join(",", actual[i].Hypotheses[0].Ids)}]");
        }
    }

    /// <summary>The devices other than cpu.</summary>
    public static TheoryData<string> Accelerators() => new(TestDevices.Available.Skip(1));

    /// <summary>The bundled model translates the issue's example sentence into real German.</summary>
    [Fact]
    public void BundledModelTranslatesTheReadmeSentence()
    {
        using var translator = Translator.Create(TestData.Model("multi30k-en-de-small"));
        var result = translator.Translate("A man in a blue shirt is riding a bike.");
        Assert.Equal("Ein Mann in einem blauen Hemd fährt Fahrrad.", result.Text);
    }

    private static void CheckRun(string id, System.Text.Json.JsonElement run, IReadOnlyList<TranslationResult> results, int eos)
    {
        int[][] sequences = GoldenFile.IntRows(run.GetProperty("sequences"));
        string[] texts = run.GetProperty("text").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var hypotheses = results.SelectMany(r => r.Hypotheses).ToArray();
        Assert.Equal(sequences.Length, hypotheses.Length);
        for (int i = 0; i < sequences.Length; i++)
        {
            int[] expected = ModelGoldenTests.TrimPadding(sequences[i], eos);
            Assert.True(expected.SequenceEqual(hypotheses[i].Ids), $"{id} row {i}: expected [{string.Join(",", expected)}] got [{string.Join(",", hypotheses[i].Ids)}]");
            Assert.Equal(texts[i], hypotheses[i].Text);
        }

        if (run.TryGetProperty("sequences_scores", out var scores))
        {
            Numerics.AssertClose(GoldenFile.Flat(scores), hypotheses.Select(h => h.Score).ToArray(), id + " sequences_scores");
        }
    }
}

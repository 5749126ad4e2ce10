using GpuTransformer.Model.Architectures;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Weights;
using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.Architectures;

/// <summary>
/// max_position_embeddings bounds every family's encoder input and decoder length, whatever rows its table has in front
/// (BART/mBART: 2 learned offset rows; M2M100: padding_idx + 1 computed rows; Marian/Pegasus: none). The last allowed
/// position must work and the next must be refused, not read past the table.
/// </summary>
public sealed class PositionLimitTests
{
    public static TheoryData<string, string> PositionedFixtures() =>
        TestDevices.Pairs(["tiny-marian-en-de", "tiny-bart", "tiny-mbart", "tiny-m2m100", "tiny-nllb", "tiny-pegasus"]);

    [Theory]
    [MemberData(nameof(PositionedFixtures))]
    public void EncoderTakesExactlyMaxPositionsTokens(string fixture, string device)
    {
        using var accelerator = DeviceCatalog.Open(device);
        using var model = Load(fixture, accelerator, out int maxPositions);
        int[] ids = Tokens(maxPositions);
        using var output = model.Encode(ids, 1, ids.Length, [ids.Length]);
        Assert.All(output.ReadHidden(), value => Assert.True(float.IsFinite(value)));

        int[] tooLong = Tokens(maxPositions + 1);
        var error = Assert.Throws<ArgumentException>(() => model.Encode(tooLong, 1, tooLong.Length, [tooLong.Length]));
        Assert.Contains($"max_position_embeddings {maxPositions}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PositionedFixtures))]
    public void DecoderTakesExactlyMaxPositionsTokens(string fixture, string device)
    {
        using var accelerator = DeviceCatalog.Open(device);
        using var model = Load(fixture, accelerator, out int maxPositions);
        int[] source = Tokens(5);
        using var encoder = model.Encode(source, 1, source.Length, [source.Length]);

        // Teacher forcing over the whole table, then one more position than it has.
        int[] target = Tokens(maxPositions);
        using var state = model.CreateDecoderState(encoder, 1, maxPositions, maxPositions);
        var logits = new float[maxPositions * model.TargetVocabSize];
        model.Decode(state, target, maxPositions);
        state.Logits.SubView(0, logits.Length).CopyToCPU(logits);
        Assert.All(logits, value => Assert.True(float.IsFinite(value)));
        Assert.Throws<ArgumentException>(() => model.CreateDecoderState(encoder, 1, maxPositions + 1));
    }

    [Fact]
    public void M2M100PaddingInsideAFullLengthInputStaysInsideTheTable()
    {
        // Padding ids read the zero row padding_idx and do not advance the positions after them, so a full-length
        // input with padding in it never reaches a row beyond max_position_embeddings + 1.
        using var accelerator = DeviceCatalog.Open("cpu");
        using var model = Load("tiny-m2m100", accelerator, out int maxPositions);
        int[] ids = Tokens(maxPositions);
        for (int t = 10; t < maxPositions; t += 7)
        {
            ids[t] = 1;
        }

        using var output = model.Encode(ids, 1, ids.Length, [ids.Length]);
        Assert.All(output.ReadHidden(), value => Assert.True(float.IsFinite(value)));
    }

    private static EncoderDecoderModel Load(string fixture, Accelerator accelerator, out int maxPositions)
    {
        string dir = TestData.Model(fixture);
        var config = ModelConfig.Load(dir);
        using var weights = WeightStore.Open(dir);
        maxPositions = config.MaxPositionEmbeddings;
        return EncoderDecoderModel.Load(config, weights, accelerator);
    }

    /// <summary>Ordinary ids (past every family's special ids, inside every fixture's vocabulary).</summary>
    private static int[] Tokens(int count) => Enumerable.Range(0, count).Select(i => 110 + i % 300).ToArray();
}

using GpuTransformer.Model.Architectures;
using GpuTransformer.Model.Configuration;
using GpuTransformer.Model.Generation;
using GpuTransformer.Model.Weights;
using GpuTransformer.Runtime;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>
/// What crosses between host and device while decoding: per step and row, only K candidate ids and scores and one
/// logsumexp come back, and only the step's ids, edits and beam bookkeeping go out; the logits never leave the device.
/// </summary>
public sealed class DecodingTransferTests
{
    /// <summary>Every device present.</summary>
    public static TheoryData<string> Devices() => new(TestDevices.Available);

    /// <summary>Greedy and beam-4 decoding of a padded batch move a few bytes per row and step, independent of the vocabulary.</summary>
    [Theory]
    [MemberData(nameof(Devices))]
    public void OnlyCandidatesComeBackEachStep(string device)
    {
        string dir = TestData.Model("tiny-marian-en-de");
        var config = ModelConfig.Load(dir);
        using var accelerator = DeviceCatalog.Open(device);
        using var weights = WeightStore.Open(dir);
        using var model = EncoderDecoderModel.Load(config, weights, accelerator);
        var defaults = GenerationConfig.Load(dir, config);
        int[] ids = [12, 45, 7, 300, 2, 0, 9, 81, 5, 0, 870, 870];
        using var encoder = model.Encode(ids, 2, 6, [6, 4]);
        var generator = new SequenceGenerator(model);
        int vocab = model.TargetVocabSize;

        foreach (int beams in new[] { 1, 4 })
        {
            var settings = GenerationSettings.Resolve(defaults, new GenerationOptions { NumBeams = beams, MaxNewTokens = 12, MinNewTokens = 12 });
            long down = accelerator.BytesDownloaded, up = accelerator.BytesUploaded;
            generator.Generate(encoder, settings, CancellationToken.None);
            long downloaded = accelerator.BytesDownloaded - down, uploaded = accelerator.BytesUploaded - up;

            int rows = 2 * beams, steps = 12, k = beams == 1 ? 1 : 2 * beams;
            long perStepDown = rows * (k * (sizeof(float) + sizeof(int)) + sizeof(float));
            Assert.True(downloaded <= steps * perStepDown, $"{device} beams {beams}: {downloaded} bytes came back, at most {steps * perStepDown} expected (K={k} candidates per row and step)");
            Assert.True(downloaded < rows * vocab * sizeof(float), $"{device} beams {beams}: {downloaded} bytes came back, as much as one step's logits");

            // Out: the step's ids, the edit offsets and edits (bad words, forced EOS), beam scores and source rows.
            long perStepUp = rows * sizeof(int) * 2 + (rows + 1) * sizeof(int) + rows * 2 * sizeof(int) * LogitsProcessing.MaxEditsPerRow(settings) + rows * sizeof(float);
            Assert.True(uploaded <= steps * perStepUp + 64 * 1024, $"{device} beams {beams}: {uploaded} bytes went out");
        }
    }
}

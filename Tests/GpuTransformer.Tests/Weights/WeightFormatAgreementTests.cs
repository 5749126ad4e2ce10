using GpuTransformer.Model.Weights;
using Xunit;

namespace GpuTransformer.Tests.Weights;

public sealed class WeightFormatAgreementTests
{
    public static TheoryData<string, string, string> Fixtures => new()
    {
        // Tensors the .bin repeats for tied weights (they share one torch storage), with the tensor they tie to.
        { "tiny-marian-en-de", "lm_head.weight", "model.shared.weight" },
        { "tiny-marian-sep-vocab", "lm_head.weight", "model.decoder.embed_tokens.weight" },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void PyTorchBinAndSafeTensorsHoldBitIdenticalTensors(string fixture, string tiedName, string tiedTo)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "testdata", fixture);
        using var safeTensors = SafeTensorsFile.Open(Path.Combine(directory, "model.safetensors"));
        using var checkpoint = PyTorchCheckpoint.Open(Path.Combine(directory, "pytorch_model.bin"));

        Assert.True(safeTensors.Names.Count > 50);
        Assert.Empty(safeTensors.Names.Except(checkpoint.Names));
        foreach (string name in safeTensors.Names)
        {
            TensorInfo expected = safeTensors.GetInfo(name);
            TensorInfo actual = checkpoint.GetInfo(name);
            Assert.Equal(TensorDType.F32, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            AssertBitIdentical(name, safeTensors.ReadFloat32(name), checkpoint.ReadFloat32(name));
        }

        foreach (string name in checkpoint.Names.Except(safeTensors.Names))
        {
            string source = name == tiedName || name.EndsWith("embed_tokens.weight", StringComparison.Ordinal) ? tiedTo : name;
            Assert.True(safeTensors.Contains(source), $"'{name}' is only in the .bin and ties to nothing known.");
            AssertBitIdentical(name, safeTensors.ReadFloat32(source), checkpoint.ReadFloat32(name));
        }
    }

    [Fact]
    public void OpenPrefersSafeTensorsAndFallsBackToPyTorchBin()
    {
        using (WeightStore store = WeightStore.Open(WeightTestData.TinyMarian))
        {
            Assert.EndsWith("model.safetensors", store.SourceFile, StringComparison.Ordinal);
        }

        using var temp = new TempDirectory();
        temp.CopyFrom(WeightTestData.TinyMarian, "pytorch_model.bin");
        using WeightStore fallback = WeightStore.Open(temp.Path);
        Assert.Equal(temp.File("pytorch_model.bin"), fallback.SourceFile);
        Assert.Equal([871, 64], fallback.GetInfo("model.shared.weight").Shape);
        Assert.Equal(871 * 64, fallback.ReadFloat32("model.shared.weight", 871, 64).Length);
    }

    [Fact]
    public void OpenFileChoosesTheFormatByContent()
    {
        using WeightStore bin = WeightStore.OpenFile(Path.Combine(WeightTestData.TinyMarian, "pytorch_model.bin"));
        using WeightStore safe = WeightStore.OpenFile(Path.Combine(WeightTestData.TinyMarian, "model.safetensors"));
        AssertBitIdentical("final_logits_bias", safe.ReadFloat32("final_logits_bias"), bin.ReadFloat32("final_logits_bias"));
    }

    [Fact]
    public void StridedPyTorchTensorIsMaterialisedInRowMajorOrder()
    {
        using var temp = new TempDirectory();
        string path = temp.File("strided.bin");

        // A transposed view: storage holds a 2x3 matrix row-major, the tensor is its 3x2 transpose, at offset 1.
        float[] storage = [-1, 0, 1, 2, 10, 11, 12];
        TorchZipBuilder.StateDict("t", storage, offset: 1, size: [3, 2], stride: [1, 3]).WriteZip(path);

        using var checkpoint = PyTorchCheckpoint.Open(path);
        Assert.Equal([3, 2], checkpoint.GetInfo("t").Shape);
        Assert.Equal([0f, 10, 1, 11, 2, 12], checkpoint.ReadFloat32("t"));
    }

    [Fact]
    public void ContiguousPyTorchTensorHonoursStorageOffset()
    {
        using var temp = new TempDirectory();
        string path = temp.File("offset.bin");
        TorchZipBuilder.StateDict("t", [9, 9, 1, 2, 3, 4], offset: 2, size: [2, 2], stride: [2, 1]).WriteZip(path, folder: "some_other_name");

        using var checkpoint = PyTorchCheckpoint.Open(path);
        Assert.Equal([1f, 2, 3, 4], checkpoint.ReadFloat32("t"));
    }

    private static void AssertBitIdentical(string name, float[] expected, float[] actual)
    {
        Assert.True(expected.Length == actual.Length, $"'{name}': {expected.Length} vs {actual.Length} elements.");
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"'{name}' differs at element {i}: {expected[i]:R} vs {actual[i]:R}.");
            }
        }
    }
}

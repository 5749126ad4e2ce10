using GpuTransformer.Model;
using GpuTransformer.Model.Weights;
using Xunit;

namespace GpuTransformer.Tests.Weights;

public sealed class WeightStoreBadInputTests
{
    [Fact]
    public void FolderWithoutWeightFilesNamesTheFolderAndBothFileNames()
    {
        using var temp = new TempDirectory();
        temp.CopyFrom(WeightTestData.TinyMarian, "config.json");
        var error = Assert.Throws<FileNotFoundException>(() => WeightStore.Open(temp.Path));
        Assert.Contains(temp.Path, error.Message, StringComparison.Ordinal);
        Assert.Contains("model.safetensors", error.Message, StringComparison.Ordinal);
        Assert.Contains("pytorch_model.bin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFolderIsReported()
    {
        string missing = Path.Combine(Path.GetTempPath(), "gpu-transformer-no-such-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<DirectoryNotFoundException>(() => WeightStore.Open(missing));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => WeightStore.OpenFile(Path.Combine(missing, "model.safetensors")));
    }

    [Fact]
    public void MissingTensorNamesTensorAndFile()
    {
        using WeightStore store = WeightStore.Open(WeightTestData.TinyMarian);
        Assert.False(store.Contains("model.encoder.layers.7.fc1.weight"));
        var error = Assert.Throws<ModelFormatException>(() => store.GetInfo("model.encoder.layers.7.fc1.weight"));
        Assert.Equal("model.encoder.layers.7.fc1.weight", error.Field);
        Assert.Equal(store.SourceFile, error.FilePath);
        Assert.Throws<ModelFormatException>(() => store.ReadFloat32("model.encoder.layers.7.fc1.weight"));
    }

    [Fact]
    public void ShapeMismatchNamesTensorExpectedAndActualShape()
    {
        using WeightStore store = WeightStore.Open(WeightTestData.TinyMarian);
        Assert.Equal(128 * 64, store.ReadFloat32("model.encoder.layers.0.fc1.weight", 128, 64).Length);
        var error = Assert.Throws<ModelFormatException>(() => store.ReadFloat32("model.encoder.layers.0.fc1.weight", 64, 128));
        Assert.Equal("model.encoder.layers.0.fc1.weight", error.Field);
        Assert.Contains("[64, 128]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[128, 64]", error.Message, StringComparison.Ordinal);
    }
}

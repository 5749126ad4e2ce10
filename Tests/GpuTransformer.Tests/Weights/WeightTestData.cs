using Xunit;

namespace GpuTransformer.Tests.Weights;

internal static class WeightTestData
{
    public static string TinyMarian => Fixture("testdata", "tiny-marian-en-de");

    public static string TinyMarianSeparateVocab => Fixture("testdata", "tiny-marian-sep-vocab");

    public static string Multi30k => Fixture("models", "multi30k-en-de-small");

    private static string Fixture(string root, string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, root, name);
        Assert.True(Directory.Exists(path), $"Test fixture '{path}' was not copied to the output directory.");
        return path;
    }
}

using System.Text.Json;
using GpuTransformer.Model.Architectures;
using GpuTransformer.Tests.Support;
using Xunit;

namespace GpuTransformer.Tests.Architectures;

/// <summary>
/// M2M100's computed position table against HF's at nllb-200's full size (testdata/reference/m2m100_positions.json):
/// the frequencies bit for bit (torch's float32 exp), every row within one float ulp (torch's float sin/cos).
/// </summary>
public sealed class FairseqSinusoidalPositionsTests
{
    [Fact]
    public void TableMatchesHuggingFaceAtEveryRecordedRow()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestData.File("reference", "m2m100_positions.json")));
        var root = document.RootElement;
        int rows = root.GetProperty("rows").GetInt32(), padding = root.GetProperty("padding_idx").GetInt32();
        foreach (var reference in root.GetProperty("tables").EnumerateArray())
        {
            int dim = reference.GetProperty("dim").GetInt32();
            int half = dim / 2;
            float step = (float)(-Math.Log(10000.0) / (half - 1));
            float[] frequencies = reference.GetProperty("frequencies").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
            for (int i = 0; i < half; i++)
            {
                Assert.True(frequencies[i] == FairseqSinusoidalPositions.TorchExp(i * step), $"d {dim}: frequency {i} is {FairseqSinusoidalPositions.TorchExp(i * step):R}, torch {frequencies[i]:R}");
            }

            float[] table = FairseqSinusoidalPositions.Create(rows, dim, padding);
            foreach (var row in reference.GetProperty("rows").EnumerateObject())
            {
                int position = int.Parse(row.Name, System.Globalization.CultureInfo.InvariantCulture);
                float[] expected = row.Value.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                Assert.Equal(dim, expected.Length);
                for (int c = 0; c < dim; c++)
                {
                    float actual = table[position * dim + c];
                    Assert.True(Math.Abs(actual - expected[c]) <= 1.2e-7, $"d {dim} row {position} column {c}: {actual:R}, HF {expected[c]:R}");
                }
            }
        }
    }
}

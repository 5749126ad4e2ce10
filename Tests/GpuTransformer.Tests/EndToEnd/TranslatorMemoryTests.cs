using System.Diagnostics;
using GpuTransformer.Model;
using GpuTransformer.Model.Generation;
using GpuTransformer.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace GpuTransformer.Tests.EndToEnd;

/// <summary>
/// Translating does not leak: the same input translated 1,000 times on the cpu backend leaves managed memory, the
/// accelerator's live allocations and the resident set where they were after 100 calls (the first 100 warm up the
/// pools, the JIT and the tokenizer's caches).
/// </summary>
[Collection(MemoryMeasurementCollection.Name)]
public sealed class TranslatorMemoryTests(ITestOutputHelper output)
{
    // Bounds on growth from call 100 to call 1,000. A leak of even one small buffer per call would grow by 900 of
    // them: 900 logits rows of the tiny model alone are several MB.
    private const long ManagedToleranceBytes = 256 * 1024;
    private const long ResidentToleranceBytes = 8 * 1024 * 1024;

    /// <summary>1,000 greedy and beam-search translations of one sentence on cpu.</summary>
    [Fact]
    public void RepeatedTranslationDoesNotGrowMemory()
    {
        using var translator = Translator.Create(TestData.Model("tiny-marian-en-de"), new TranslatorOptions { Device = "cpu" });
        var options = new GenerationOptions { NumBeams = 2, MaxNewTokens = 8 };
        const string text = "A man is riding a bicycle down the street.";
        string first = translator.Translate(text, options).Text;

        long managed100 = 0, device100 = 0, resident100 = 0;
        for (int call = 2; call <= 1000; call++)
        {
            Assert.Equal(first, translator.Translate(text, options).Text);
            if (call == 100)
            {
                (managed100, device100, resident100) = Measure(translator);
            }
        }

        var (managed1000, device1000, resident1000) = Measure(translator);
        output.WriteLine($"call 100: managed {managed100:N0}, device {device100:N0}, resident {resident100:N0} bytes");
        output.WriteLine($"call 1000: managed {managed1000:N0}, device {device1000:N0}, resident {resident1000:N0} bytes");
        Assert.True(device1000 <= device100, $"live device allocations grew from {device100:N0} to {device1000:N0} bytes");
        Assert.True(managed1000 - managed100 <= ManagedToleranceBytes, $"managed memory grew from {managed100:N0} to {managed1000:N0} bytes");
        Assert.True(resident1000 - resident100 <= ResidentToleranceBytes, $"the resident set grew from {resident100:N0} to {resident1000:N0} bytes");
    }

    private static (long Managed, long Device, long Resident) Measure(Translator translator)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return (GC.GetTotalMemory(forceFullCollection: true), translator.Accelerator.BytesAllocated, process.WorkingSet64);
    }
}

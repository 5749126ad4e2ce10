using GpuTransformer.Kernels.Cpu;
using Xunit;

namespace GpuTransformer.Tests.Conformance;

/// <summary>
/// <see cref="CpuParallel"/>, which every threaded cpu op runs on: each index exactly once, however the loops come
/// (back to back, nested, from several threads at once), and a failing body reported without losing the pool. Other
/// test classes run loops at the same time, so nothing here depends on which thread runs an index.
/// </summary>
public sealed unsafe class CpuParallelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(1000)]
    public void EveryIndexRunsExactlyOnceInManyLoopsBackToBack(int n)
    {
        var counts = new int[n];
        fixed (int* c = counts)
        {
            for (int loop = 1; loop <= 300; loop++)
            {
                CpuParallel.For(n, &Count, c);
                Assert.All(counts, value => Assert.Equal(loop, value));
            }
        }
    }

    [Fact]
    public void NoIndexRunsForAnEmptyOrNegativeCount()
    {
        var counts = new int[1];
        fixed (int* c = counts)
        {
            CpuParallel.For(0, &Count, c);
            CpuParallel.For(-3, &Count, c);
        }

        Assert.Equal(0, counts[0]);
    }

    [Fact]
    public void ALoopInsideALoopRunsEveryInnerIndex()
    {
        const int Outer = 8, Inner = 50;
        var counts = new int[Outer * Inner];
        fixed (int* c = counts)
        {
            CpuParallel.For(Outer, &RunInner, c);
        }

        Assert.All(counts, value => Assert.Equal(1, value));
    }

    [Fact]
    public void LoopsStartedFromSeveralThreadsAtOnceEachRunEveryIndex()
    {
        const int Callers = 4, N = 257, Loops = 100;
        var counts = new int[Callers][];
        var threads = new Thread[Callers];
        for (int t = 0; t < Callers; t++)
        {
            counts[t] = new int[N];
            int[] own = counts[t];
            threads[t] = new Thread(() =>
            {
                fixed (int* c = own)
                {
                    for (int loop = 0; loop < Loops; loop++)
                    {
                        CpuParallel.For(N, &Count, c);
                    }
                }
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        foreach (int[] own in counts)
        {
            Assert.All(own, value => Assert.Equal(Loops, value));
        }
    }

    [Fact]
    public void AFailingBodyIsReportedAndTheNextLoopStillRunsEveryIndex()
    {
        var counts = new int[64];
        fixed (int* c = counts)
        {
            AggregateException? error = null;
            try
            {
                CpuParallel.For(64, &FailAt13, c);
            }
            catch (AggregateException e)
            {
                error = e;
            }

            Assert.NotNull(error);
            Assert.Contains(error.InnerExceptions, e => e is InvalidOperationException && e.Message.Contains("index 13", StringComparison.Ordinal));

            // Every index but the failing one ran; then the pool is usable again.
            Assert.Equal(63, counts.Count(value => value == 1));
            Array.Clear(counts);
            CpuParallel.For(64, &Count, c);
        }

        Assert.All(counts, value => Assert.Equal(1, value));
    }

    // Workers spin on the wake-up semaphore's count for WorkerSpin before they sleep: with no spin every loop wakes a
    // sleeping worker, with a long one the next loop finds it still spinning. Every index runs once in each case.
    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(5000)]
    public void EveryIndexRunsExactlyOnceWhetherWorkersSpinOrSleep(int spinMicroseconds)
    {
        TimeSpan before = CpuParallel.WorkerSpin;
        try
        {
            CpuParallel.WorkerSpin = TimeSpan.FromMicroseconds(spinMicroseconds);
            Assert.Equal(spinMicroseconds, CpuParallel.WorkerSpin.TotalMicroseconds, 1.0);
            var counts = new int[64];
            fixed (int* c = counts)
            {
                for (int loop = 1; loop <= 60; loop++)
                {
                    CpuParallel.For(counts.Length, &Count, c);
                    Assert.All(counts, value => Assert.Equal(loop, value));
                }
            }
        }
        finally
        {
            CpuParallel.WorkerSpin = before;
        }
    }

    [Fact]
    public void ANegativeWorkerSpinIsRejectedAndLeavesTheSpinAlone()
    {
        TimeSpan before = CpuParallel.WorkerSpin;
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuParallel.WorkerSpin = TimeSpan.FromMicroseconds(-1));
        Assert.Equal(before, CpuParallel.WorkerSpin);
    }

    [Fact]
    public void ThreadCountBelowOneIsRejectedAndLeavesTheCountAlone()
    {
        int before = CpuParallel.ThreadCount;
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuParallel.ThreadCount = 0);
        Assert.Equal(before, CpuParallel.ThreadCount);
    }

    private static void Count(int index, void* state) => Interlocked.Increment(ref ((int*)state)[index]);

    private static void RunInner(int outer, void* state) => CpuParallel.For(50, &Count, (int*)state + (outer * 50));

    private static void FailAt13(int index, void* state)
    {
        if (index == 13)
        {
            throw new InvalidOperationException("index 13 fails on purpose");
        }

        Count(index, state);
    }
}

using System.Diagnostics;

namespace GpuTransformer.Kernels.Cpu;

/// <summary>
/// An allocation-free parallel loop for the per-layer, per-token CPU ops. <c>Parallel.For</c> allocates a closure and
/// task state per call, which adds up to thousands of allocations per generated token; here a fixed set of worker
/// threads waits on a semaphore (spinning on it for <see cref="WorkerSpin"/> first) and claims loop indices with an
/// interlocked counter, and the caller works too.
/// One loop runs at a time; a loop started while another runs (nested or from another thread) runs serially.
/// </summary>
public static unsafe class CpuParallel
{
    private static readonly object StartLock = new();
    private static long spinTicks = Stopwatch.Frequency / 20_000;
    private static readonly SemaphoreSlim Wake = new(0);
    private static Thread[]? workers;
    private static int threads = Math.Max(1, Environment.ProcessorCount);
    private static int busy;

    private static delegate* managed<int, void*, void> body;
    private static void* bodyState;
    private static int count;
    private static int remaining;

    // Generation in the high 32 bits, next index in the low 32: a worker that wakes late, or is still inside the last
    // loop, can only claim an index by compare-and-swap on the generation it saw, never one of a newer loop by accident.
    private static long ticket;
    private static Exception? failure;

    /// <summary>Gets or sets how many threads (the caller included) a loop uses; at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int ThreadCount
    {
        get => threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            threads = value;
        }
    }

    /// <summary>
    /// Gets or sets how long a worker thread waits for the next loop before it sleeps (50 µs by default; zero sleeps at
    /// once). A worker that spins is ready when the next op of the same token starts, without the wake-up of a sleeping
    /// thread (on a virtual machine an idle vCPU may be given to another guest meanwhile); the cost is up to this much
    /// busy time per loop on each worker. In the GEMM A/B harness 50 µs measured level to 3.7 % faster by the mean at
    /// M = 1-1024 (7 of 11 shape pairs faster, none slower by more than 0.4 %); end to end (a marian-base model, batch
    /// 32, greedy and beam 4) the two were level within the noise of that machine.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static TimeSpan WorkerSpin
    {
        get => TimeSpan.FromSeconds((double)Volatile.Read(ref spinTicks) / Stopwatch.Frequency);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            Volatile.Write(ref spinTicks, (long)(value.TotalSeconds * Stopwatch.Frequency));
        }
    }

    /// <summary>Runs <paramref name="action"/> for every index in [0, <paramref name="n"/>), in parallel.</summary>
    /// <exception cref="AggregateException">A call of <paramref name="action"/> threw (the first failure inside); every other index still ran.</exception>
    /// <param name="n">How many indices.</param>
    /// <param name="action">The loop body; gets the index and <paramref name="state"/>.</param>
    /// <param name="state">Caller state, valid until this method returns.</param>
    public static void For(int n, delegate* managed<int, void*, void> action, void* state)
    {
        if (n <= 0)
        {
            return;
        }

        int helpers = Math.Min(threads, n) - 1;
        if (helpers <= 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            RunSerially(n, action, state);
            return;
        }

        try
        {
            EnsureWorkers();
            body = action;
            bodyState = state;
            count = n;
            failure = null;
            Volatile.Write(ref remaining, n);
            long generation = (Volatile.Read(ref ticket) >> 32) + 1;
            Volatile.Write(ref ticket, generation << 32);
            Wake.Release(Math.Min(helpers, workers!.Length));
            Drain();
            var spin = default(SpinWait);
            while (Volatile.Read(ref remaining) > 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            if (failure is { } error)
            {
                throw new AggregateException(error);
            }
        }
        finally
        {
            body = null;
            bodyState = null;
            Volatile.Write(ref busy, 0);
        }
    }

    // The same contract as a parallel loop, so that a caller sees one behaviour whether or not the pool was free:
    // every index runs, and a failure is reported afterwards as an AggregateException holding the first one.
    private static void RunSerially(int n, delegate* managed<int, void*, void> action, void* state)
    {
        Exception? first = null;
        for (int i = 0; i < n; i++)
        {
            try
            {
                action(i, state);
            }
            catch (Exception e)
            {
                first ??= e;
            }
        }

        if (first is not null)
        {
            throw new AggregateException(first);
        }
    }

    private static void Drain()
    {
        while (true)
        {
            long seen = Volatile.Read(ref ticket);
            int i = (int)(seen & 0xFFFFFFFF);
            if (i >= Volatile.Read(ref count) || Interlocked.CompareExchange(ref ticket, seen + 1, seen) != seen)
            {
                if (i >= Volatile.Read(ref count) && Volatile.Read(ref ticket) == seen)
                {
                    return;
                }

                continue;
            }

            try
            {
                body(i, bodyState);
            }
            catch (Exception e)
            {
                failure ??= e;
            }
            finally
            {
                Interlocked.Decrement(ref remaining);
            }
        }
    }

    private static void EnsureWorkers()
    {
        if (workers is not null)
        {
            return;
        }

        lock (StartLock)
        {
            if (workers is not null)
            {
                return;
            }

            var started = new Thread[Math.Max(1, Environment.ProcessorCount - 1)];
            for (int t = 0; t < started.Length; t++)
            {
                started[t] = new Thread(WorkerLoop) { IsBackground = true, Name = $"GpuTransformer CPU worker {t}" };
                started[t].Start();
            }

            workers = started;
        }
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            // Spin on the semaphore's count, not on the loop state, so that a worker still takes exactly one release
            // per loop and no more helpers join a loop than it asked for.
            long until = Stopwatch.GetTimestamp() + Volatile.Read(ref spinTicks);
            while (Wake.CurrentCount == 0 && Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(20);
            }

            Wake.Wait();
            if (Volatile.Read(ref remaining) > 0)
            {
                Drain();
            }
        }
    }
}

using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime.Emulator;

/// <summary>
/// One work-group while the emulator runs it: its shared-memory arrays (the same arrays for every work-item, matched
/// by the order of the <see cref="SharedMemory.Allocate"/> calls) and, when its work-items run concurrently, the
/// barrier they meet at. Reused from group to group; shared memory is poisoned between groups.
/// </summary>
internal sealed unsafe class GroupState : IDisposable
{
    private readonly List<(Type Type, int Length, long Bytes, nint Pointer)> shared = [];
    private readonly Lock gate = new();
    private Barrier? barrier;
    private CancellationToken cancellation;
    private int groupSize;
    private int kernelArrivals;

    /// <summary>Makes the group run <paramref name="size"/> work-items concurrently that meet at barriers.</summary>
    public void UseBarrier(int size, CancellationToken token)
    {
        groupSize = size;
        cancellation = token;
        kernelArrivals = 0;
        FreeShared();
        barrier?.Dispose();
        barrier = new Barrier(size, _ => AfterPhase());
    }

    public ArrayView<T> Shared<T>(int index, int length)
        where T : unmanaged
    {
        lock (gate)
        {
            if (index < shared.Count)
            {
                var a = shared[index];
                if (a.Type != typeof(T) || a.Length != length)
                {
                    throw new InvalidOperationException($"SharedMemory.Allocate call {index} asked for {length} {typeof(T).Name} in one work-item and {a.Length} {a.Type.Name} in another");
                }

                return new ArrayView<T>(null, (T*)a.Pointer, 0, length);
            }

            if (index != shared.Count)
            {
                throw new InvalidOperationException("work-items of one group made different SharedMemory.Allocate calls");
            }

            long bytes = Math.Max(1, (long)length * sizeof(T));
            var p = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            new Span<byte>((void*)p, (int)bytes).Fill(0xFF);
            shared.Add((typeof(T), length, bytes, p));
            return new ArrayView<T>(null, (T*)p, 0, length);
        }
    }

    /// <summary>Fills shared memory with 0xFF bytes (NaN floats, -1 integers) so a read before a write shows.</summary>
    public void PoisonShared()
    {
        foreach (var a in shared)
        {
            new Span<byte>((void*)a.Pointer, (int)a.Bytes).Fill(0xFF);
        }
    }

    /// <summary>A work-item's <see cref="Group.Barrier"/>.</summary>
    public void Barrier()
    {
        if (barrier is null)
        {
            throw new InvalidOperationException("Group.Barrier() in a kernel the generator recorded as barrier-free");
        }

        Interlocked.Increment(ref kernelArrivals);
        barrier.SignalAndWait(cancellation);
    }

    /// <summary>A work-item has finished the group; the last one to arrive resets the group for the next.</summary>
    public void EndOfGroup() => barrier!.SignalAndWait(cancellation);

    public void Dispose()
    {
        barrier?.Dispose();
        FreeShared();
    }

    /// <summary>Forgets the arrays of the previous kernel: another kernel allocates other sizes.</summary>
    private void FreeShared()
    {
        foreach (var a in shared)
        {
            NativeMemory.AlignedFree((void*)a.Pointer);
        }

        shared.Clear();
    }

    private void AfterPhase()
    {
        // Every work-item must meet at the same barrier: all at a Group.Barrier() call, or all at the end of the group.
        int arrivals = Interlocked.Exchange(ref kernelArrivals, 0);
        if (arrivals != 0 && arrivals != groupSize)
        {
            throw new InvalidOperationException($"only {arrivals} of {groupSize} work-items reached Group.Barrier(); the others had finished (a barrier inside divergent control flow)");
        }

        if (arrivals == 0)
        {
            PoisonShared();
        }
    }
}

using System.Runtime.InteropServices;

namespace GpuTransformer.Runtime.Emulator;

/// <summary>
/// Where the kernel intrinsics (<see cref="Grid"/>, <see cref="Group"/>, <see cref="SharedMemory"/>,
/// <see cref="LocalMemory"/>) find the work-item that is running: one context per emulator thread, pointed at the
/// current group and work-item before the kernel body runs for it. Each work-item has its own private-memory arena,
/// so that work-item loops (<see cref="WorkGroupLoop"/>) can interleave work-items without mixing their arrays.
/// </summary>
internal sealed unsafe class LaneContext : IDisposable
{
    // Private arrays of one work-item: far more than a GPU gives a thread, so a kernel that fits a GPU fits here.
    private const int ArenaBytes = 64 * 1024;

    [ThreadStatic]
    private static LaneContext? current;

    private readonly List<nint> arenas = [];
    private int[] arenaUsed = new int[1];
    private int[] sharedCalls = new int[1];
    private int lane;

    /// <summary>The context of the work-item running on this thread.</summary>
    /// <exception cref="InvalidOperationException">No kernel is running on this thread.</exception>
    public static LaneContext Current => current ?? throw new InvalidOperationException(
        "Grid, Group, SharedMemory and LocalMemory are valid only inside a kernel launched on an accelerator");

    public LaunchDimensions Dimensions { get; private set; }

    public int GroupIndexX { get; private set; }

    public int GroupIndexY { get; private set; }

    public int GroupIndexZ { get; private set; }

    public int LaneIndexX { get; private set; }

    public int LaneIndexY { get; private set; }

    public int LaneIndexZ { get; private set; }

    /// <summary>The group the work-item belongs to.</summary>
    public GroupState? Group { get; private set; }

    /// <summary>Makes this the current context of the calling thread.</summary>
    public void Enter(in LaunchDimensions dimensions, GroupState group)
    {
        Dimensions = dimensions;
        Group = group;
        current = this;
    }

    /// <summary>Clears the calling thread's context.</summary>
    public static void Leave() => current = null;

    /// <summary>Points the context at one work-item that runs from start to end before the next (sequential and thread modes).</summary>
    public void SetWorkItem(long groupLinear, int laneLinear)
    {
        SetGroup(groupLinear);
        lane = 0;
        SetLaneIndices(laneLinear);
        arenaUsed[0] = 0;
        sharedCalls[0] = 0;
    }

    /// <summary>Starts a group whose work-items are interleaved stretch by stretch (work-item loops).</summary>
    public void BeginGroup(long groupLinear, int size)
    {
        SetGroup(groupLinear);
        if (arenaUsed.Length < size)
        {
            arenaUsed = new int[size];
            sharedCalls = new int[size];
        }

        Array.Clear(arenaUsed, 0, size);
        Array.Clear(sharedCalls, 0, size);
    }

    /// <summary>Switches to work-item <paramref name="laneLinear"/> of the current group, keeping every work-item's state.</summary>
    public void SelectLane(int laneLinear)
    {
        lane = laneLinear;
        SetLaneIndices(laneLinear);
    }

    public string Describe() => $"group ({GroupIndexX},{GroupIndexY},{GroupIndexZ}) work-item ({LaneIndexX},{LaneIndexY},{LaneIndexZ})";

    public ArrayView<T> AllocateShared<T>(int length)
        where T : unmanaged
    {
        var group = Group ?? throw new InvalidOperationException("SharedMemory.Allocate outside a kernel");
        return group.Shared<T>(sharedCalls[lane]++, length);
    }

    public ArrayView<T> AllocateLocal<T>(int length)
        where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        long bytes = ((long)length * sizeof(T) + 15) & ~15L;
        while (arenas.Count <= lane)
        {
            arenas.Add((nint)NativeMemory.AlignedAlloc(ArenaBytes, 64));
        }

        if (arenaUsed[lane] + bytes > ArenaBytes)
        {
            throw new InvalidOperationException($"the private arrays of one work-item exceed the emulator's {ArenaBytes} bytes");
        }

        byte* p = (byte*)arenas[lane] + arenaUsed[lane];
        arenaUsed[lane] += (int)bytes;
        new Span<byte>(p, (int)bytes).Fill(0xFF);
        return new ArrayView<T>(null, (T*)p, 0, length);
    }

    public void Barrier()
    {
        var group = Group ?? throw new InvalidOperationException("Group.Barrier outside a kernel");
        group.Barrier();
    }

    public void Dispose()
    {
        foreach (nint arena in arenas)
        {
            NativeMemory.AlignedFree((void*)arena);
        }

        arenas.Clear();
    }

    private void SetGroup(long groupLinear)
    {
        var d = Dimensions;
        GroupIndexX = (int)(groupLinear % d.GridX);
        GroupIndexY = (int)(groupLinear / d.GridX % d.GridY);
        GroupIndexZ = (int)(groupLinear / ((long)d.GridX * d.GridY));
    }

    private void SetLaneIndices(int laneLinear)
    {
        var d = Dimensions;
        LaneIndexX = laneLinear % d.GroupX;
        LaneIndexY = laneLinear / d.GroupX % d.GroupY;
        LaneIndexZ = laneLinear / (d.GroupX * d.GroupY);
    }
}

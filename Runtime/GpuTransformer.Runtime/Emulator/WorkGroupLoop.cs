using System.Runtime.CompilerServices;

namespace GpuTransformer.Runtime.Emulator;

/// <summary>
/// Runs one work-group of a synchronising kernel on one thread, the way PoCL runs OpenCL on a CPU: the generator
/// splits the kernel body at its <see cref="Group.Barrier"/> calls and emits each stretch between barriers as a loop
/// over the group's work-items; locals that live across a barrier become per-work-item arrays from
/// <see cref="LaneArray{T}"/>. This class is what that generated code calls; it is not meant for hand-written code.
/// </summary>
/// <remarks>
/// The transformation needs uniform control flow around barriers, which GPUs need too: every work-item must agree
/// on the condition of an <c>if</c> or loop that contains a barrier (checked by <see cref="Decide"/>), and a
/// work-item that returns must not be followed to a barrier by others (checked by <see cref="Barrier"/>).
/// </remarks>
public sealed class WorkGroupLoop
{
    private readonly LaneContext context;
    private readonly GroupState group;
    private readonly List<Array> laneArrays = [];
    private bool[] returned = [];
    private int votesTrue;
    private int votesFalse;
    private int returnedCount;

    internal WorkGroupLoop(LaneContext context, GroupState group)
    {
        this.context = context;
        this.group = group;
    }

    /// <summary>Work-items in the group.</summary>
    public int Size { get; private set; }

    /// <summary>Makes <paramref name="lane"/> the running work-item; false if it has returned.</summary>
    /// <param name="lane">Linear index of the work-item in its group.</param>
    /// <returns>Whether the work-item still runs.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool BeginLane(int lane)
    {
        if (returned[lane])
        {
            return false;
        }

        context.SelectLane(lane);
        return true;
    }

    /// <summary>The work-item <paramref name="lane"/> executed <c>return</c>.</summary>
    /// <param name="lane">Linear index of the work-item.</param>
    public void Return(int lane)
    {
        if (!returned[lane])
        {
            returned[lane] = true;
            returnedCount++;
        }
    }

    /// <summary>Whether every work-item has returned, so the rest of the group's body can be skipped.</summary>
    public bool AllReturned => returnedCount == Size;

    /// <summary>A <see cref="Group.Barrier"/> between two stretches: checks that no work-item returned before it while others reach it.</summary>
    /// <exception cref="InvalidOperationException">Some work-items returned and others reach the barrier.</exception>
    public void Barrier()
    {
        if (returnedCount != 0 && returnedCount != Size)
        {
            throw new InvalidOperationException($"only {Size - returnedCount} of {Size} work-items reached Group.Barrier(); the others had returned (a barrier inside divergent control flow)");
        }
    }

    /// <summary>Records one work-item's value of the condition of an <c>if</c> or loop that contains a barrier.</summary>
    /// <param name="condition">The work-item's value.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Vote(bool condition)
    {
        if (condition)
        {
            votesTrue++;
        }
        else
        {
            votesFalse++;
        }
    }

    /// <summary>The condition every running work-item voted for.</summary>
    /// <returns>The shared value; false when no work-item runs.</returns>
    /// <exception cref="InvalidOperationException">The work-items disagree.</exception>
    public bool Decide()
    {
        int yes = votesTrue, no = votesFalse;
        votesTrue = votesFalse = 0;
        if (yes != 0 && no != 0)
        {
            throw new InvalidOperationException($"the condition around a Group.Barrier() is true for {yes} work-items and false for {no}; it must be the same for the whole group");
        }

        return yes != 0;
    }

    /// <summary>Per-work-item storage for local <paramref name="slot"/>: an array of at least <see cref="Size"/> elements, reused between groups.</summary>
    /// <typeparam name="T">The local's type.</typeparam>
    /// <param name="slot">The generator's number for the local.</param>
    /// <returns>The array; element <c>i</c> is work-item <c>i</c>'s copy.</returns>
    public T[] LaneArray<T>(int slot)
    {
        while (laneArrays.Count <= slot)
        {
            laneArrays.Add(Array.Empty<T>());
        }

        if (laneArrays[slot] is T[] existing && existing.Length >= Size)
        {
            return existing;
        }

        var created = new T[Size];
        laneArrays[slot] = created;
        return created;
    }

    /// <summary>Starts group <paramref name="groupLinear"/>: every work-item running, shared memory poisoned.</summary>
    internal void BeginGroup(long groupLinear, int size)
    {
        if (returned.Length < size)
        {
            returned = new bool[size];
        }

        Size = size;
        Array.Clear(returned, 0, size);
        returnedCount = 0;
        votesTrue = votesFalse = 0;
        group.PoisonShared();
        context.BeginGroup(groupLinear, size);
    }
}

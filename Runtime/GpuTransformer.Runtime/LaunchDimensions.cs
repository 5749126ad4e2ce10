namespace GpuTransformer.Runtime;

/// <summary>
/// The shape of a launch: work-groups in the grid and work-items per group, per dimension. OpenCL's global size is
/// their product; CUDA's grid and block are the two parts.
/// </summary>
public readonly record struct LaunchDimensions
{
    /// <summary>A launch of <paramref name="gridX"/> × <paramref name="gridY"/> × <paramref name="gridZ"/> groups of <paramref name="groupX"/> × <paramref name="groupY"/> × <paramref name="groupZ"/> work-items.</summary>
    /// <param name="gridX">Groups along X.</param>
    /// <param name="gridY">Groups along Y.</param>
    /// <param name="gridZ">Groups along Z.</param>
    /// <param name="groupX">Work-items per group along X.</param>
    /// <param name="groupY">Work-items per group along Y.</param>
    /// <param name="groupZ">Work-items per group along Z.</param>
    /// <exception cref="ArgumentOutOfRangeException">A grid size is negative or a group size is not positive.</exception>
    public LaunchDimensions(int gridX, int gridY, int gridZ, int groupX, int groupY, int groupZ)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gridX);
        ArgumentOutOfRangeException.ThrowIfNegative(gridY);
        ArgumentOutOfRangeException.ThrowIfNegative(gridZ);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupX, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupY, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(groupZ, 1);
        GridX = gridX;
        GridY = gridY;
        GridZ = gridZ;
        GroupX = groupX;
        GroupY = groupY;
        GroupZ = groupZ;
    }

    /// <summary>A one-dimensional launch of <paramref name="groups"/> groups of <paramref name="groupSize"/>.</summary>
    /// <param name="groups">Groups.</param>
    /// <param name="groupSize">Work-items per group.</param>
    public LaunchDimensions(int groups, int groupSize)
        : this(groups, 1, 1, groupSize, 1, 1)
    {
    }

    /// <summary>A two-dimensional grid of one-dimensional groups.</summary>
    /// <param name="gridX">Groups along X.</param>
    /// <param name="gridY">Groups along Y.</param>
    /// <param name="groupSize">Work-items per group (along X).</param>
    public LaunchDimensions(int gridX, int gridY, int groupSize)
        : this(gridX, gridY, 1, groupSize, 1, 1)
    {
    }

    /// <summary>Groups along X.</summary>
    public int GridX { get; }

    /// <summary>Groups along Y.</summary>
    public int GridY { get; }

    /// <summary>Groups along Z.</summary>
    public int GridZ { get; }

    /// <summary>Work-items per group along X.</summary>
    public int GroupX { get; }

    /// <summary>Work-items per group along Y.</summary>
    public int GroupY { get; }

    /// <summary>Work-items per group along Z.</summary>
    public int GroupZ { get; }

    /// <summary>Groups in the grid.</summary>
    public long GroupCount => (long)GridX * GridY * GridZ;

    /// <summary>Work-items per group.</summary>
    public int GroupSize => GroupX * GroupY * GroupZ;

    /// <summary>Groups enough to cover <paramref name="items"/> work-items with groups of <paramref name="groupSize"/>.</summary>
    /// <param name="items">Work-items needed (at least).</param>
    /// <param name="groupSize">Work-items per group.</param>
    /// <returns>A one-dimensional launch.</returns>
    public static LaunchDimensions Covering(int items, int groupSize) => new((items + groupSize - 1) / groupSize, groupSize);

    /// <inheritdoc />
    public override string ToString() => $"grid {GridX}x{GridY}x{GridZ} of groups {GroupX}x{GroupY}x{GroupZ}";
}

namespace GpuTransformer.Runtime.Emulator;

/// <summary>A launch as the lane threads of a <see cref="LaneCrew"/> see it, whatever its argument type.</summary>
internal interface IEmulatedLaunch
{
    LaunchDimensions Dimensions { get; }

    /// <summary>Runs work-item <paramref name="laneLinear"/> of every group, meeting the others at barriers.</summary>
    void RunLane(int laneLinear, LaneContext context, GroupState group);

    /// <summary>Prepares <paramref name="group"/> for a launch whose work-items run concurrently.</summary>
    void PrepareGroup(GroupState group);
}

using GpuTransformer.Runtime.Emulator;

namespace GpuTransformer.Runtime;

/// <summary>
/// The work-group as seen from inside a kernel (ILGPU's names): <c>IdxX</c> is this work-item's index in its group,
/// <c>DimX</c> the group's size. Valid only while a kernel runs.
/// </summary>
public static class Group
{
    /// <summary>This work-item's index in its group along X (OpenCL <c>get_local_id(0)</c>, CUDA <c>threadIdx.x</c>).</summary>
    public static int IdxX => LaneContext.Current.LaneIndexX;

    /// <summary>This work-item's index in its group along Y.</summary>
    public static int IdxY => LaneContext.Current.LaneIndexY;

    /// <summary>This work-item's index in its group along Z.</summary>
    public static int IdxZ => LaneContext.Current.LaneIndexZ;

    /// <summary>Work-items per group along X (OpenCL <c>get_local_size(0)</c>, CUDA <c>blockDim.x</c>).</summary>
    public static int DimX => LaneContext.Current.Dimensions.GroupX;

    /// <summary>Work-items per group along Y.</summary>
    public static int DimY => LaneContext.Current.Dimensions.GroupY;

    /// <summary>Work-items per group along Z.</summary>
    public static int DimZ => LaneContext.Current.Dimensions.GroupZ;

    /// <summary>
    /// Waits until every work-item of the group has reached this barrier, and makes their shared-memory writes visible
    /// (OpenCL <c>barrier(CLK_LOCAL_MEM_FENCE)</c>, CUDA <c>__syncthreads()</c>). Every work-item of the group must
    /// reach the same barrier; the emulator reports a group where only some do.
    /// </summary>
    public static void Barrier() => LaneContext.Current.Barrier();
}

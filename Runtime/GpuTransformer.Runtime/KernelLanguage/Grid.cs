using GpuTransformer.Runtime.Emulator;

namespace GpuTransformer.Runtime;

/// <summary>
/// The launch grid as seen from inside a kernel, in work-groups (ILGPU's names): <c>IdxX</c> is this group's index in
/// the grid, <c>DimX</c> the number of groups. Valid only while a kernel runs.
/// </summary>
public static class Grid
{
    /// <summary>This work-group's index along X (OpenCL <c>get_group_id(0)</c>, CUDA <c>blockIdx.x</c>).</summary>
    public static int IdxX => LaneContext.Current.GroupIndexX;

    /// <summary>This work-group's index along Y.</summary>
    public static int IdxY => LaneContext.Current.GroupIndexY;

    /// <summary>This work-group's index along Z.</summary>
    public static int IdxZ => LaneContext.Current.GroupIndexZ;

    /// <summary>Work-groups along X (OpenCL <c>get_num_groups(0)</c>, CUDA <c>gridDim.x</c>).</summary>
    public static int DimX => LaneContext.Current.Dimensions.GridX;

    /// <summary>Work-groups along Y.</summary>
    public static int DimY => LaneContext.Current.Dimensions.GridY;

    /// <summary>Work-groups along Z.</summary>
    public static int DimZ => LaneContext.Current.Dimensions.GridZ;

    /// <summary>This work-item's index in the whole launch: <c>Grid.Idx * Group.Dim + Group.Idx</c> per dimension.</summary>
    public static Index3D GlobalIndex
    {
        get
        {
            var c = LaneContext.Current;
            var d = c.Dimensions;
            return new Index3D(
                c.GroupIndexX * d.GroupX + c.LaneIndexX,
                c.GroupIndexY * d.GroupY + c.LaneIndexY,
                c.GroupIndexZ * d.GroupZ + c.LaneIndexZ);
        }
    }
}

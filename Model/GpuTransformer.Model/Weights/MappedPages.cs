using System.Runtime.InteropServices;

namespace GpuTransformer.Model.Weights;

/// <summary>
/// Drops pages of a read-only file mapping from the process once their tensor has been converted: the kernel keeps
/// them in its page cache, but they stop counting in the resident set, so loading a model does not hold the whole
/// mapped file resident next to the uploaded weights (VmHWM would otherwise be at least file + weights).
/// </summary>
internal static unsafe partial class MappedPages
{
    private const int MadvDontNeed = 4;
    private static readonly long PageSize = Environment.SystemPageSize;

    /// <summary>Releases the whole pages inside [<paramref name="start"/>, +<paramref name="length"/>).</summary>
    /// <param name="start">Start of a range of a read-only mapping.</param>
    /// <param name="length">Bytes.</param>
    public static void Release(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // Only pages wholly inside the range: a neighbouring tensor may still be read from a shared edge page (and
        // would simply fault it back in from the page cache if it were dropped).
        long first = ((long)start + PageSize - 1) & ~(PageSize - 1);
        long end = ((long)start + length) & ~(PageSize - 1);
        if (end > first)
        {
            // Advice only: a failure leaves the pages resident, which is correct, just larger.
            _ = Madvise((void*)first, (nuint)(end - first), MadvDontNeed);
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}

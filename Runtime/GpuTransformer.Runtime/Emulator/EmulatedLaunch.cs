namespace GpuTransformer.Runtime.Emulator;

/// <summary>One launch on the emulator: the kernel body, its typed arguments, and the first failure of any work-item.</summary>
internal sealed unsafe class EmulatedLaunch<TArgs> : IEmulatedLaunch
    where TArgs : struct
{
    private readonly KernelDefinition kernel;
    private readonly TArgs arguments;
    private readonly delegate*<in TArgs, void> body;
    private readonly delegate*<in TArgs, WorkGroupLoop, void> groupBody;
    private readonly CancellationTokenSource cancel = new();
    private Exception? failure;
    private string? failedAt;
    private long nextGroup;

    public EmulatedLaunch(KernelDefinition kernel, in LaunchDimensions dimensions, in TArgs arguments, delegate*<in TArgs, void> body, delegate*<in TArgs, WorkGroupLoop, void> groupBody)
    {
        this.groupBody = groupBody;
        this.kernel = kernel;
        Dimensions = dimensions;
        this.arguments = arguments;
        this.body = body;
    }

    public LaunchDimensions Dimensions { get; }

    /// <summary>Barrier-free kernels: each worker takes whole groups and runs their work-items one after another.</summary>
    public void RunWorkItems() => Spread(RunGroups);

    /// <summary>Kernels with barriers: each worker takes whole groups and runs each as the generated work-item loops.</summary>
    public void RunWorkItemLoops() => Spread(RunGroupLoops);

    public void PrepareGroup(GroupState group) => group.UseBarrier(Dimensions.GroupSize, cancel.Token);

    public void RunLane(int laneLinear, LaneContext context, GroupState group)
    {
        context.Enter(Dimensions, group);
        try
        {
            for (long g = 0; g < Dimensions.GroupCount && !cancel.IsCancellationRequested; g++)
            {
                context.SetWorkItem(g, laneLinear);
                body(in arguments);
                group.EndOfGroup();
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // Another work-item failed and broke the barrier; its error is the one to report.
        }
        catch (Exception e)
        {
            Fail(e, context);
        }
        finally
        {
            LaneContext.Leave();
        }
    }

    public void ThrowIfFailed()
    {
        if (failure is not null)
        {
            throw new DeviceException($"{kernel.SourceMethod} failed on the emulator in {failedAt}: {failure.Message}", failure);
        }
    }

    private void Spread(Action worker)
    {
        long groups = Dimensions.GroupCount;
        int workers = (int)Math.Min(Environment.ProcessorCount, groups);
        if (workers <= 1 || groups * Dimensions.GroupSize < 4096)
        {
            worker();
        }
        else
        {
            Parallel.For(0, workers, _ => worker());
        }
    }

    private void RunGroupLoops()
    {
        using var context = new LaneContext();
        using var group = new GroupState();
        var loop = new WorkGroupLoop(context, group);
        context.Enter(Dimensions, group);
        try
        {
            long g;
            while ((g = Interlocked.Increment(ref nextGroup) - 1) < Dimensions.GroupCount && !cancel.IsCancellationRequested)
            {
                loop.BeginGroup(g, Dimensions.GroupSize);
                groupBody(in arguments, loop);
            }
        }
        catch (Exception e)
        {
            Fail(e, context);
        }
        finally
        {
            LaneContext.Leave();
        }
    }

    private void RunGroups()
    {
        using var context = new LaneContext();
        using var group = new GroupState();
        context.Enter(Dimensions, group);
        try
        {
            int lanes = Dimensions.GroupSize;
            long g;
            while ((g = Interlocked.Increment(ref nextGroup) - 1) < Dimensions.GroupCount && !cancel.IsCancellationRequested)
            {
                group.PoisonShared();
                for (int lane = 0; lane < lanes; lane++)
                {
                    context.SetWorkItem(g, lane);
                    body(in arguments);
                }
            }
        }
        catch (Exception e)
        {
            Fail(e, context);
        }
        finally
        {
            LaneContext.Leave();
        }
    }

    private void Fail(Exception e, LaneContext context)
    {
        lock (cancel)
        {
            if (failure is null)
            {
                failure = e is BarrierPostPhaseException { InnerException: { } inner } ? inner : e;
                failedAt = context.Describe();
            }
        }

        cancel.Cancel();
    }
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * forensics_mem: physical memory as a LiME stream, for the one process that
 * loaded the module.  See uapi/forensics_mem.h for the interface and
 * README.md for what the access rule does and does not guarantee.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "capture.h"
#include "compat.h"
#include "page.h"
#include "uapi/forensics_mem.h"

static unsigned int page_timeout_ms = 1000;
module_param(page_timeout_ms, uint, 0444);
MODULE_PARM_DESC(page_timeout_ms,
		 "a page copy slower than this (ms) counts as slow and the rest of its 2 MiB block is skipped; 0 = no limit (default 1000)");

/* The thread group that loaded the module: the only one that may open. */
static struct pid *loader;

enum { DEVICE_UNUSED, DEVICE_OPEN, DEVICE_CLOSED };
static atomic_t device_state = ATOMIC_INIT(DEVICE_UNUSED);

static int fmem_open(struct inode *inode, struct file *file)
{
	struct fmem_capture *c;
	int ret;

	if (task_tgid(current) != loader || !capable(CAP_SYS_RAWIO))
		return -EPERM;
	if (atomic_cmpxchg(&device_state, DEVICE_UNUSED, DEVICE_OPEN) != DEVICE_UNUSED)
		return -EBUSY;

	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ret = -ENOMEM;
		goto err_unused;
	}
	ret = fmem_capture_init(c, page_timeout_ms);
	if (ret)
		goto err_free;
	ret = nonseekable_open(inode, file);
	if (ret)
		goto err_destroy;
	file->private_data = c;
	pr_info("opened: %u ranges, %llu bytes of RAM, page_timeout_ms=%u\n",
		c->ranges.count, c->ranges.ram_bytes, page_timeout_ms);
	return 0;

err_destroy:
	fmem_capture_destroy(c);
err_free:
	kfree(c);
err_unused:
	/* Nothing was read: the loader may try again. */
	atomic_set(&device_state, DEVICE_UNUSED);
	return ret;
}

static int fmem_release(struct inode *inode, struct file *file)
{
	struct fmem_capture *c = file->private_data;

	fmem_capture_destroy(c);
	kfree(c);
	atomic_set(&device_state, DEVICE_CLOSED);
	return 0;
}

static ssize_t fmem_read(struct file *file, char __user *buf, size_t count,
			 loff_t *ppos)
{
	struct fmem_capture *c = file->private_data;
	ssize_t ret = fmem_capture_read(c, buf, count);

	/* The capture's own offset is the truth; *ppos only mirrors it. */
	*ppos = READ_ONCE(c->offset);
	return ret;
}

static long fmem_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct fmem_capture *c = file->private_data;
	struct forensics_mem_info info;

	switch (cmd) {
	case FORENSICS_MEM_IOC_INFO:
		fmem_capture_info(c, &info);
		if (copy_to_user((void __user *)arg, &info, sizeof(info)))
			return -EFAULT;
		return 0;
	case FORENSICS_MEM_IOC_UNREADABLE:
		return fmem_capture_unreadable(c, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations fmem_fops = {
	.owner = THIS_MODULE,
	.open = fmem_open,
	.release = fmem_release,
	.read = fmem_read,
	.unlocked_ioctl = fmem_ioctl,
	/* Both structures have one layout for 32- and 64-bit callers. */
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice fmem_device = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = FORENSICS_MEM_DEVICE,
	.fops = &fmem_fops,
	.mode = 0400,
};

static int __init fmem_init(void)
{
	unsigned long unaccepted = compat_unaccepted_pages();
	int ret;

	if (unaccepted) {
		pr_err("%lu pages of this confidential guest are not accepted yet and touching one would kill it; boot with accept_memory=eager to capture\n",
		       unaccepted);
		return -EOPNOTSUPP;
	}
	/* finit_module() runs this in the loader's own context. */
	loader = get_pid(task_tgid(current));

	ret = fmem_page_hotplug_register();
	if (ret)
		goto err_pid;
	ret = misc_register(&fmem_device);
	if (ret)
		goto err_hotplug;
	pr_info("/dev/%s ready for pid %d only\n", FORENSICS_MEM_DEVICE,
		pid_nr(loader));
	return 0;

err_hotplug:
	fmem_page_hotplug_unregister();
err_pid:
	put_pid(loader);
	return ret;
}

static void __exit fmem_exit(void)
{
	misc_deregister(&fmem_device);
	fmem_page_hotplug_unregister();
	put_pid(loader);
}

module_init(fmem_init);
module_exit(fmem_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Physical memory as a LiME stream for the loading process only");

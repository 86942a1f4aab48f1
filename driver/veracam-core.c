// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - virtual CSI-2 receiver and capture DMA engine
 *
 * It plays the part a SoC's CSI-2 receiver plays on a board: it owns the
 * media device and the capture nodes, and binds the camera sensor at the
 * remote end of its endpoint through an async notifier. Where there is no
 * device tree it also plays the part ipu-bridge plays on ACPI laptops:
 * for each of num_cameras= cameras it builds a software node graph (the
 * receiver's endpoint linked to the sensor's) and instantiates the VC1
 * sensor (vc1.ko) on the kernel's i2c-stub adapter, at address 0x10 + N,
 * where the sensor driver probes it like any I2C device. On a board the
 * device tree binds the sensor to the SoC's receiver and this driver is
 * not used.
 *
 * Lifetime: the struct veracam lives until the last file handle on any of
 * its video nodes is closed (the v4l2_device reference count); remove()
 * only unregisters. The sensor may come and go (its driver bound and
 * unbound) while the receiver stays: the links to it and its subdev node
 * go with it, streaming stops producing frames.
 */

#include <linux/i2c.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <media/v4l2-fwnode.h>

#include "veracam.h"
#include "veracam-uid-ctrl.h"

static int num_cameras = -1;
module_param(num_cameras, int, 0444);
MODULE_PARM_DESC(num_cameras,
		 "number of virtual receivers, each with a VC1 sensor on i2c-stub, 0 to 8 (default: 1 without a device tree, 0 with one)");

/* the adapter the sensors are instantiated on */
#define VERACAM_STUB_ADAPTER	"SMBus stub driver"

/* ------------------------------------------------------------------ */
/* The software node graph of one camera                                */
/* ------------------------------------------------------------------ */

enum {
	VERACAM_SWNODE_RX,
	VERACAM_SWNODE_RX_PORT,
	VERACAM_SWNODE_RX_EP,
	VERACAM_SWNODE_SENSOR,
	VERACAM_SWNODE_SENSOR_PORT,
	VERACAM_SWNODE_SENSOR_EP,
	VERACAM_SWNODE_COUNT
};

#define VERACAM_LANES		2
/* the VC1's link frequency for 24 bits per pixel at 148.5 MHz, 2 lanes */
#define VERACAM_LINK_FREQ	891000000ULL

struct veracam_board {
	char rx_name[16];
	char sensor_name[16];
	struct software_node nodes[VERACAM_SWNODE_COUNT];
	const struct software_node *group[VERACAM_SWNODE_COUNT + 1];
	struct software_node_ref_args rx_remote;
	struct software_node_ref_args sensor_remote;
	struct property_entry rx_ep_props[4];
	struct property_entry sensor_ep_props[5];
	u32 data_lanes[VERACAM_LANES];
	u64 link_freqs[1];
	struct platform_device *pdev;
};

static struct veracam_board *veracam_boards[VERACAM_MAX_CAMERAS];
static unsigned int veracam_num_boards;

static void veracam_board_init(struct veracam_board *b, unsigned int index)
{
	struct software_node *n = b->nodes;
	unsigned int i;

	snprintf(b->rx_name, sizeof(b->rx_name), "veracam-%u", index);
	snprintf(b->sensor_name, sizeof(b->sensor_name), "vc1-%u", index);
	for (i = 0; i < VERACAM_LANES; i++)
		b->data_lanes[i] = i + 1;
	b->link_freqs[0] = VERACAM_LINK_FREQ;

	b->rx_remote = SOFTWARE_NODE_REFERENCE(&n[VERACAM_SWNODE_SENSOR_EP]);
	b->sensor_remote = SOFTWARE_NODE_REFERENCE(&n[VERACAM_SWNODE_RX_EP]);

	b->rx_ep_props[0] = PROPERTY_ENTRY_U32("bus-type",
					       V4L2_FWNODE_BUS_TYPE_CSI2_DPHY);
	b->rx_ep_props[1] = PROPERTY_ENTRY_U32_ARRAY("data-lanes",
						     b->data_lanes);
	b->rx_ep_props[2] = PROPERTY_ENTRY_REF_ARRAY_LEN("remote-endpoint",
							 &b->rx_remote, 1);

	b->sensor_ep_props[0] =
		PROPERTY_ENTRY_U32("bus-type", V4L2_FWNODE_BUS_TYPE_CSI2_DPHY);
	b->sensor_ep_props[1] = PROPERTY_ENTRY_U32_ARRAY("data-lanes",
							 b->data_lanes);
	b->sensor_ep_props[2] = PROPERTY_ENTRY_U64_ARRAY("link-frequencies",
							 b->link_freqs);
	b->sensor_ep_props[3] =
		PROPERTY_ENTRY_REF_ARRAY_LEN("remote-endpoint",
					     &b->sensor_remote, 1);

	n[VERACAM_SWNODE_RX] = (struct software_node){ .name = b->rx_name };
	n[VERACAM_SWNODE_RX_PORT] = (struct software_node){
		.name = "port@0", .parent = &n[VERACAM_SWNODE_RX] };
	n[VERACAM_SWNODE_RX_EP] = (struct software_node){
		.name = "endpoint@0", .parent = &n[VERACAM_SWNODE_RX_PORT],
		.properties = b->rx_ep_props };
	n[VERACAM_SWNODE_SENSOR] = (struct software_node){
		.name = b->sensor_name };
	n[VERACAM_SWNODE_SENSOR_PORT] = (struct software_node){
		.name = "port@0", .parent = &n[VERACAM_SWNODE_SENSOR] };
	n[VERACAM_SWNODE_SENSOR_EP] = (struct software_node){
		.name = "endpoint@0", .parent = &n[VERACAM_SWNODE_SENSOR_PORT],
		.properties = b->sensor_ep_props };

	for (i = 0; i < VERACAM_SWNODE_COUNT; i++)
		b->group[i] = &n[i];
	b->group[VERACAM_SWNODE_COUNT] = NULL;
}

/* A receiver platform device with its graph, for a system without DT. */
static int veracam_board_add(unsigned int index)
{
	struct platform_device_info info = {
		.name = VERACAM_DRIVER_NAME,
		.id = index,
	};
	struct veracam_board *b;
	int ret;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	veracam_board_init(b, index);

	ret = software_node_register_node_group(b->group);
	if (ret)
		goto err_free;

	/* the receiver's probe finds it there */
	veracam_boards[index] = b;
	info.fwnode = software_node_fwnode(&b->nodes[VERACAM_SWNODE_RX]);
	b->pdev = platform_device_register_full(&info);
	if (IS_ERR(b->pdev)) {
		ret = PTR_ERR(b->pdev);
		goto err_nodes;
	}
	veracam_num_boards++;
	return 0;

err_nodes:
	veracam_boards[index] = NULL;
	software_node_unregister_node_group(b->group);
err_free:
	kfree(b);
	return ret;
}

static void veracam_boards_remove(void)
{
	struct veracam_board *b;

	while (veracam_num_boards) {
		b = veracam_boards[--veracam_num_boards];
		platform_device_unregister(b->pdev);
		software_node_unregister_node_group(b->group);
		veracam_boards[veracam_num_boards] = NULL;
		kfree(b);
	}
}

static int veracam_find_stub(struct device *dev, void *data)
{
	struct i2c_adapter *adap = i2c_verify_adapter(dev);

	if (!adap || strcmp(adap->name, VERACAM_STUB_ADAPTER))
		return 0;
	*(int *)data = i2c_adapter_id(adap);
	return 1;
}

/* Instantiate the camera's sensor on i2c-stub, with its software node. */
static int veracam_add_sensor(struct veracam *cam, struct veracam_board *b)
{
	struct i2c_board_info info = {
		.type = "vc1",
		.addr = VERACAM_SENSOR_ADDR + cam->index,
		.swnode = &b->nodes[VERACAM_SWNODE_SENSOR],
	};
	struct i2c_adapter *adap;
	struct i2c_client *client;
	int nr = -1;

	i2c_for_each_dev(&nr, veracam_find_stub);
	adap = nr >= 0 ? i2c_get_adapter(nr) : NULL;
	if (!adap)
		return dev_err_probe(cam->dev, -ENODEV,
				     "no i2c-stub adapter: load i2c-stub with chip_addr=0x%02x\n",
				     info.addr);

	client = i2c_new_client_device(adap, &info);
	i2c_put_adapter(adap);
	if (IS_ERR(client))
		return dev_err_probe(cam->dev, PTR_ERR(client),
				     "cannot add the sensor at 0x%02x\n",
				     info.addr);
	cam->client = client;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The async notifier                                                   */
/* ------------------------------------------------------------------ */

static struct veracam *notifier_to_veracam(struct v4l2_async_notifier *n)
{
	return container_of(n, struct veracam, notifier);
}

static int veracam_notify_bound(struct v4l2_async_notifier *notifier,
				struct v4l2_subdev *sd,
				struct v4l2_async_subdev *asd)
{
	struct veracam *cam = notifier_to_veracam(notifier);
	int ret;

	ret = veracam_source_bind(cam, sd);
	if (ret)
		return ret;

	ret = v4l2_ctrl_s_ctrl_string(cam->unique_id_ctrl, cam->unique_id_hex);
	if (ret) {
		veracam_source_unbind(cam);
		return ret;
	}

	mutex_lock(&cam->frame_lock);
	cam->gen.tag = cam->tag;
	mutex_unlock(&cam->frame_lock);

	dev_dbg(cam->dev, "bound %s, unique id %s\n", sd->name,
		cam->unique_id_hex);
	return 0;
}

static void veracam_notify_unbind(struct v4l2_async_notifier *notifier,
				  struct v4l2_subdev *sd,
				  struct v4l2_async_subdev *asd)
{
	struct veracam *cam = notifier_to_veracam(notifier);

	veracam_stream_unbind(cam);
	veracam_source_unbind(cam);
	dev_dbg(cam->dev, "%s unbound\n", sd->name);
}

/* The sensor's source to the receiver's sink. */
static int veracam_link_sensor(struct veracam *cam, struct v4l2_subdev *sd)
{
	int pad;

	pad = media_entity_get_fwnode_pad(&sd->entity, sd->fwnode,
					  MEDIA_PAD_FL_SOURCE);
	if (pad < 0)
		return pad;

	return media_create_pad_link(&sd->entity, pad, &cam->csi2.entity,
				     VERACAM_CSI2_PAD_SINK,
				     MEDIA_LNK_FL_ENABLED |
				     MEDIA_LNK_FL_IMMUTABLE);
}

/* The receiver's sources to the capture nodes. */
static int veracam_link_nodes(struct veracam *cam)
{
	u32 flags = MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE;
	int ret;

	ret = media_create_pad_link(&cam->csi2.entity, VERACAM_CSI2_PAD_IMAGE,
				    &cam->video.vdev.entity, 0, flags);
	if (ret)
		return ret;
	return media_create_pad_link(&cam->csi2.entity, VERACAM_CSI2_PAD_META,
				     &cam->meta.vdev.entity, 0, flags);
}

/*
 * The sensor is there: link it to the capture nodes and show the graph.
 * The nodes and the media device are registered the first time; when the
 * sensor comes back after an unbind, only its links and subdev node are
 * new.
 */
static int veracam_notify_complete(struct v4l2_async_notifier *notifier)
{
	struct veracam *cam = notifier_to_veracam(notifier);
	int ret;

	if (!cam->registered) {
		ret = veracam_video_register(cam);
		if (ret)
			return ret;
		ret = veracam_meta_register(cam);
		if (ret)
			goto err_nodes;
		ret = veracam_link_nodes(cam);
		if (ret)
			goto err_nodes;
	}

	ret = veracam_link_sensor(cam, cam->src.sd);
	if (ret)
		goto err_nodes;

	ret = v4l2_device_register_subdev_nodes(&cam->v4l2_dev);
	if (ret || cam->registered)
		goto err_nodes;

	strscpy(cam->mdev.serial, cam->unique_id_hex, sizeof(cam->mdev.serial));
	snprintf(cam->mdev.model, sizeof(cam->mdev.model), "veracam %u (%08x)",
		 cam->index, cam->tag);
	ret = media_device_register(&cam->mdev);
	if (ret)
		goto err_nodes;

	cam->registered = true;
	dev_info(cam->dev, "veracam %u: unique id %s, %s\n", cam->index,
		 cam->unique_id_hex, cam->mdev.bus_info);
	return 0;

err_nodes:
	if (ret && !cam->registered) {
		veracam_node_unregister(&cam->meta);
		veracam_node_unregister(&cam->video);
	}
	return ret;
}

static const struct v4l2_async_notifier_operations veracam_notify_ops = {
	.bound = veracam_notify_bound,
	.unbind = veracam_notify_unbind,
	.complete = veracam_notify_complete,
};

static int veracam_notifier_init(struct veracam *cam)
{
	struct v4l2_async_subdev *asd;
	struct fwnode_handle *ep;

	v4l2_async_nf_init(&cam->notifier);
	cam->notifier.ops = &veracam_notify_ops;

	ep = fwnode_graph_get_endpoint_by_id(dev_fwnode(cam->dev), 0, 0, 0);
	if (!ep)
		return dev_err_probe(cam->dev, -EINVAL, "no endpoint\n");

	asd = v4l2_async_nf_add_fwnode_remote(&cam->notifier, ep,
					      struct v4l2_async_subdev);
	fwnode_handle_put(ep);
	if (IS_ERR(asd))
		return PTR_ERR(asd);

	return v4l2_async_nf_register(&cam->v4l2_dev, &cam->notifier);
}

/* ------------------------------------------------------------------ */
/* Probe and remove                                                     */
/* ------------------------------------------------------------------ */

static int veracam_init_ctrls(struct veracam *cam)
{
	v4l2_ctrl_handler_init(&cam->ctrls, 1);
	cam->unique_id_ctrl = v4l2_ctrl_new_custom(&cam->ctrls,
						   &veracam_unique_id_ctrl,
						   NULL);
	if (cam->ctrls.error) {
		int ret = cam->ctrls.error;

		v4l2_ctrl_handler_free(&cam->ctrls);
		return ret;
	}
	return 0;
}

/* The last reference to the camera is gone: free it. */
static void veracam_release(struct v4l2_device *v4l2_dev)
{
	struct veracam *cam = container_of(v4l2_dev, struct veracam, v4l2_dev);

	veracam_node_cleanup(&cam->meta);
	veracam_node_cleanup(&cam->video);
	veracam_csi2_cleanup(cam);
	v4l2_ctrl_handler_free(&cam->ctrls);
	media_device_cleanup(&cam->mdev);
	veracam_gen_free(&cam->gen);
	mutex_destroy(&cam->frame_lock);
	mutex_destroy(&cam->src_lock);
	mutex_destroy(&cam->stream_lock);
	kfree(cam);
}

static int veracam_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct veracam_board *board;
	struct veracam *cam;
	int ret;

	if (pdev->id < 0 || pdev->id >= VERACAM_MAX_CAMERAS)
		return -ENODEV;
	board = veracam_boards[pdev->id];
	if (!board)
		return -ENODEV;

	cam = kzalloc(sizeof(*cam), GFP_KERNEL);
	if (!cam)
		return -ENOMEM;
	cam->dev = dev;
	cam->index = pdev->id;
	veracam_stream_init(cam);
	platform_set_drvdata(pdev, cam);

	ret = veracam_gen_init(&cam->gen, cam->index, 0);
	if (ret)
		goto err_free;

	ret = veracam_init_ctrls(cam);
	if (ret)
		goto err_gen;

	cam->mdev.dev = dev;
	strscpy(cam->mdev.model, "veracam", sizeof(cam->mdev.model));
	snprintf(cam->mdev.bus_info, sizeof(cam->mdev.bus_info),
		 "platform:%s.%u", VERACAM_DRIVER_NAME, cam->index);
	media_device_init(&cam->mdev);

	ret = veracam_csi2_init(cam);
	if (ret)
		goto err_media;

	cam->v4l2_dev.mdev = &cam->mdev;
	ret = v4l2_device_register(dev, &cam->v4l2_dev);
	if (ret)
		goto err_csi2;
	/* from here on the last v4l2_device_put() frees the camera */
	cam->v4l2_dev.release = veracam_release;

	ret = v4l2_device_register_subdev(&cam->v4l2_dev, &cam->csi2);
	if (ret)
		goto err_notifier;

	ret = veracam_notifier_init(cam);
	if (ret)
		goto err_notifier;

	ret = veracam_add_sensor(cam, board);
	if (ret)
		goto err_unregister;

	/* suspended before the sensor, resumed after it */
	if (!device_link_add(dev, &cam->client->dev, DL_FLAG_STATELESS))
		dev_warn(dev, "no device link to the sensor\n");
	return 0;

err_unregister:
	v4l2_async_nf_unregister(&cam->notifier);
err_notifier:
	v4l2_async_nf_cleanup(&cam->notifier);
	v4l2_device_unregister(&cam->v4l2_dev);
	v4l2_device_put(&cam->v4l2_dev);
	return ret;
err_csi2:
	veracam_csi2_cleanup(cam);
err_media:
	media_device_cleanup(&cam->mdev);
	v4l2_ctrl_handler_free(&cam->ctrls);
err_gen:
	veracam_gen_free(&cam->gen);
err_free:
	kfree(cam);
	return ret;
}

static int veracam_remove(struct platform_device *pdev)
{
	struct veracam *cam = platform_get_drvdata(pdev);

	/*
	 * Stop streaming first (it leaves the media pipeline), then hide the
	 * graph. Open file handles get -ENODEV from now on.
	 */
	if (cam->registered) {
		veracam_node_unregister(&cam->meta);
		veracam_node_unregister(&cam->video);
		media_device_unregister(&cam->mdev);
	}
	v4l2_async_nf_unregister(&cam->notifier);
	v4l2_async_nf_cleanup(&cam->notifier);
	device_link_remove(&pdev->dev, &cam->client->dev);
	i2c_unregister_device(cam->client);
	v4l2_device_unregister(&cam->v4l2_dev);
	v4l2_device_put(&cam->v4l2_dev);
	return 0;
}

/*
 * System sleep: the frame worker is frozen; the frame timer stops before
 * the sensor does and starts again after it resumed (the device link).
 */
static int veracam_suspend(struct device *dev)
{
	veracam_stream_suspend(dev_get_drvdata(dev));
	return 0;
}

static int veracam_resume(struct device *dev)
{
	veracam_stream_resume(dev_get_drvdata(dev));
	return 0;
}

static DEFINE_SIMPLE_DEV_PM_OPS(veracam_pm_ops, veracam_suspend,
				veracam_resume);

static struct platform_driver veracam_platform_driver = {
	.probe = veracam_probe,
	.remove = veracam_remove,
	.driver = {
		.name = VERACAM_DRIVER_NAME,
		.pm = pm_sleep_ptr(&veracam_pm_ops),
	},
};

static int __init veracam_init(void)
{
	unsigned int count, i;
	int ret;

	if (num_cameras < 0)
		count = of_have_populated_dt() ? 0 : 1;
	else
		count = num_cameras;
	if (count > VERACAM_MAX_CAMERAS) {
		pr_err("veracam: num_cameras must be 0 to %u\n",
		       VERACAM_MAX_CAMERAS);
		return -EINVAL;
	}

	ret = platform_driver_register(&veracam_platform_driver);
	if (ret)
		return ret;

	for (i = 0; i < count; i++) {
		ret = veracam_board_add(i);
		if (ret)
			goto err_boards;
	}
	return 0;

err_boards:
	veracam_boards_remove();
	platform_driver_unregister(&veracam_platform_driver);
	return ret;
}

static void __exit veracam_exit(void)
{
	veracam_boards_remove();
	platform_driver_unregister(&veracam_platform_driver);
}

module_init(veracam_init);
module_exit(veracam_exit);

MODULE_DESCRIPTION("veracam virtual CSI-2 receiver and capture engine");
MODULE_AUTHOR("The veracam authors");
MODULE_LICENSE("GPL");
